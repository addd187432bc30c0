#!/usr/bin/env bash
# Installs headless Chromium for the browser tests (the compile report's screenshot, the AOT module in a page)
# from Debian's own `chromium` package, where it can. Does nothing when a Chromium is already on the PATH, when
# not root, or when apt is missing: the browser tests then report themselves skipped with the reason. Never
# fails the caller.
set -u
export DEBIAN_FRONTEND=noninteractive
log() { echo "[setup-chromium] $*"; }

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${KILN_CHROMIUM:-}" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "no root or no apt-get: not installing Chromium (browser tests will be skipped unless one exists)"
  exit 0
fi
log "installing chromium from Debian (about a minute)"
if { apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
     { apt-get update -qq >/dev/null 2>&1 &&
       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }; }; then
  log "done"
else
  log "apt-get failed: browser tests will be skipped"
fi
exit 0

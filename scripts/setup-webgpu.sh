#!/usr/bin/env bash
# Installs a Vulkan driver that Dawn (the `webgpu` package) accepts, where it can: Mesa's software driver
# (lavapipe) from bookworm-backports. Debian 12's own Mesa 22.3 is refused by Dawn, so the backports build is
# needed. Does nothing when a Vulkan loader is already present, when not root, or when apt is missing: the
# WebGPU tests then report themselves skipped with the reason. Never fails the caller.
set -u
log() { echo "[setup-webgpu] $*"; }

if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "no root or no apt-get: not installing a Vulkan driver (WebGPU tests will be skipped unless one exists)"
  exit 0
fi
sources=/etc/apt/sources.list.d/debian.sources
if [ ! -f "$sources" ] || ! grep -q bookworm "$sources"; then
  log "not Debian bookworm ($sources): not installing Mesa from backports"
  exit 0
fi
# The same mirror and keyring as the machine's own Debian entry, with the backports suite.
uri=$(sed -n 's/^URIs: *//p' "$sources" | head -n 1)
key=$(sed -n 's/^Signed-By: *//p' "$sources" | head -n 1)
cat > /etc/apt/sources.list.d/kiln-bookworm-backports.sources <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $key
SRC
log "installing mesa-vulkan-drivers from bookworm-backports"
if apt-get update -qq >/dev/null 2>&1 &&
   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null 2>&1; then
  log "done"
else
  log "apt-get failed: WebGPU tests will be skipped"
fi
exit 0

// The one in-process node:inspector session the closure reader uses, and the Debugger domain's lifetime.
//
// Only the Debugger domain maps a script id to its URL and source, and it has two costs that pull apart:
// - `Debugger.enable` replays `scriptParsed` for every script in the isolate (≈30 µs each: Node's, the
//   user's modules, Kiln's own guards and kernels), so enabling it once per new script made every compile
//   slower than the last (32 → 149 ms after 100 → 800 modules);
// - while it is on, V8 runs every WebAssembly function as debuggable baseline code: a wasm loop measured
//   3–4× slower (1.0 → 4.4 ms) until `Debugger.disable`.
// So the debugger is *held*: enabled on first need, kept on while compiles keep needing it (new scripts are
// then reported one by one, at no replay cost), and released once nothing needed it for `holdMs` — twice what
// the last enable cost, so that re-enabling later never costs more than the time it was kept (a ski-rental
// bound). Release is checked by every compiled call (`releaseIfIdle`) and by an unref'd timer. Holding it
// keeps no dead script alive: 1,800 short-lived compiled functions measured flat at 15 MB of heap while held.
//
// A fresh process's first compile avoids the Debugger altogether where it can: turning it on there cost
// 55–90 ms of processor time (≈500 scripts replayed, Node's and Kiln's own), while one `Profiler.getBestEffortCoverage`
// (no domain to enable, nothing left running) lists the URL of every script that has live functions in
// ≈20 ms. It is taken once per process, before the Debugger was ever needed; a script it does not list, and
// every later new script, goes through the Debugger as above. Sources are then read from the file where it
// provably holds what V8 loaded (closures.ts).
import inspector from 'node:inspector';

export type Result = Record<string, any>;

const MIN_HOLD_MS = 20;
const MAX_HOLD_MS = 2000;

let session: inspector.Session | undefined;
/** Script id → URL, for scripts that have one (files, `//# sourceURL` evals); `new Function`/eval have none. */
const scriptUrls = new Map<string, string>();
/** Every script with an id up to this one has been reported: absent from `scriptUrls` means no URL. */
let highestReported = -1;
let lastNeed = 0;
let holdMs = MIN_HOLD_MS;
let timer: ReturnType<typeof setTimeout> | undefined;
let enables = 0;
let reports = 0;
/** Script id → URL from the one coverage listing ('' for a listed script without one); undefined until taken. */
let coverageUrls: Map<string, string> | undefined;

/** True while the Debugger domain is on; compiled calls read it (one load) to release it when idle. */
export let debuggerHeld = false;

function connect(): inspector.Session {
  const s = new inspector.Session();
  s.connect();
  s.on('Debugger.scriptParsed', (m: { params: { scriptId: string; url: string } }) => {
    reports++;
    const id = Number(m.params.scriptId);
    if (id > highestReported) highestReported = id;
    if (m.params.url) scriptUrls.set(m.params.scriptId, m.params.url);
  });
  return s;
}

/** A synchronous inspector call (in-process sessions answer inline). */
export function post(method: string, params: object = {}): Result {
  session ??= connect();
  let out: Result | undefined;
  let error: Error | null = null;
  session.post(method, params, (err, res) => {
    error = err;
    out = res as Result;
  });
  if (error) throw error;
  return out!;
}


const groupsToRelease = new Set<string>();

/**
 * Releases an object group once the current synchronous work is done (a microtask): the functions one
 * compile reads share one release instead of paying a round trip each. The group's remote objects stay
 * alive until then; nothing reads them after the read that fetched them.
 */
export function releaseObjectGroupSoon(group: string): void {
  if (!session || groupsToRelease.has(group)) return;
  groupsToRelease.add(group);
  queueMicrotask(() => {
    groupsToRelease.delete(group);
    try {
      post('Runtime.releaseObjectGroup', { objectGroup: group });
    } catch {
      /* the session is gone, and its remote objects with it: an error here would be uncaught (a microtask) */
    }
  });
}

/**
 * Counters for tests: `enables` (each replays every script), `reports` (scriptParsed events handled) and
 * `highestScriptId` (script ids count up, so a difference is the number of scripts made in between).
 */
export const inspectorActivity = () => ({ enables, reports, highestScriptId: highestReported, held: debuggerHeld, coverageListings: coverageUrls ? 1 : 0 });

/** Turns the Debugger domain on (if it is off) and notes that it was needed now. */
export function needDebugger(): void {
  lastNeed = performance.now();
  if (!debuggerHeld) {
    // No cache of collected scripts' sources: a long-lived process makes many short-lived scripts.
    post('Debugger.enable', { maxScriptsCacheSize: 0 });
    const cost = performance.now() - lastNeed;
    debuggerHeld = true;
    holdMs = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, 2 * cost));
    enables++;
  }
  if (!timer) armTimer(holdMs);
}

function armTimer(ms: number): void {
  timer = setTimeout(() => {
    timer = undefined;
    if (!debuggerHeld) return;
    const left = lastNeed + holdMs - performance.now();
    if (left > 0) armTimer(left);
    else releaseDebugger();
  }, ms);
  timer.unref?.();
}

/** Releases the debugger when no compile needed it for `holdMs` (cheap: called by compiled functions). */
export function releaseIfIdle(): void {
  if (debuggerHeld && performance.now() - lastNeed >= holdMs) releaseDebugger();
}

/** Turns the Debugger domain off now (WebAssembly runs at full speed again). */
export function releaseDebugger(): void {
  if (!debuggerHeld) return;
  debuggerHeld = false;
  post('Debugger.disable');
}

/**
 * The URL of a script ('' when it has none). Enables the debugger only for a script it has not reported; a
 * lookup while it is held counts as a use (a compile is reading a new function), so it stays held.
 */
export function scriptUrl(scriptId: string): string {
  if (!debuggerHeld && Number(scriptId) > highestReported) {
    const listed = enables === 0 ? listedUrl(scriptId) : undefined;
    if (listed !== undefined) return listed;
  }
  if (debuggerHeld || Number(scriptId) > highestReported) needDebugger();
  return scriptUrls.get(scriptId) ?? '';
}

/** The URL the process's one coverage listing gives the script, or undefined where it does not list it. */
function listedUrl(scriptId: string): string | undefined {
  if (!coverageUrls) {
    coverageUrls = new Map();
    try {
      const listing = post('Profiler.getBestEffortCoverage').result as { scriptId: string; url: string }[];
      for (const s of listing) coverageUrls.set(s.scriptId, s.url);
    } catch {
      /* no listing: every script goes through the Debugger */
    }
  }
  return coverageUrls.get(scriptId);
}

/** A script's source text, or undefined when V8 no longer has it. */
export function scriptSource(scriptId: string): string | undefined {
  needDebugger();
  try {
    return post('Debugger.getScriptSource', { scriptId }).scriptSource as string;
  } catch {
    return undefined;
  }
}

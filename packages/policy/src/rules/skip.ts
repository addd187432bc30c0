import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FrameOrigin } from '../frame.js';
import type { ModuleInfo, ModuleMatcher } from './modules.js';

/**
 * Which frames a module rule covers. As in PyTorch's trace_rules, a module can be skipped as a top-level
 * frame (eager code calling into it never starts a trace there) yet inlined when traced code calls it:
 * `scope: 'call'` on an inline rule does exactly that.
 */
export type RuleScope = 'all' | FrameOrigin;

export const scopeCovers = (scope: RuleScope, origin: FrameOrigin) => scope === 'all' || scope === origin;

export interface ModuleRule {
  readonly id: string;
  readonly kind: 'skip' | 'inline';
  readonly matcher: ModuleMatcher;
  readonly scope: RuleScope;
  readonly origin: string;
  /** The reason, given the function's display name and where it lives. */
  readonly reason: (name: string, info: ModuleInfo) => string;
}

const HERE = 'packages/policy/src/rules/skip.ts';

/** The default skip list: nothing here is traced unless an inline exception or a per-function rule says so. */
export const DEFAULT_SKIP_LIST: readonly ModuleRule[] = [
  {
    id: 'skip-list:<native>',
    kind: 'skip',
    matcher: { type: 'native' },
    scope: 'all',
    origin: HERE,
    reason: (name) =>
      `skipped: ${name} is a native function with no JavaScript source to trace; call it outside the compiled function, or register a traceable replacement with substitute()`,
  },
  {
    id: 'skip-list:node:*',
    kind: 'skip',
    matcher: { type: 'builtin', pattern: 'node:*' },
    scope: 'all',
    origin: HERE,
    reason: (name, info) =>
      `skipped: ${name} is in the Node builtin module ${info.url}, whose effects (I/O, timers, processes) cannot be traced; call it outside the compiled function`,
  },
  {
    id: 'skip-list:@kiln/*',
    kind: 'skip',
    // Internals are the packages' sources and builds; their tests, benches and examples are user code.
    matcher: { type: 'package', pattern: '@kiln/*', within: ['src/**', 'dist/**'] },
    scope: 'all',
    origin: HERE,
    reason: (name, info) =>
      `skipped: ${name} is an internal of ${info.packageName}; Kiln never traces its own internals — tensor ops go in the graph through the allowlist, so if you expected this one to, it is missing from packages/policy/src/rules/allowlist.ts`,
  },
  {
    id: 'skip-list:node_modules/**',
    kind: 'skip',
    matcher: { type: 'node_modules' },
    scope: 'all',
    origin: HERE,
    reason: (name, info) =>
      `skipped: ${name} comes from ${info.packageName ?? 'a package'} in node_modules; add '${info.packageName ?? 'the package'}' to policy.inline to trace into it`,
  },
];

// The polyfills are Kiln code (skipped as @kiln/*) that exists to be traced: an inline exception, but only
// for calls from traced code — nobody should start a compile at a polyfill.
const POLYFILL_DIR = dirname(fileURLToPath(new URL('../polyfills/index.js', import.meta.url)));

/** Built-in inline exceptions: modules under a skip rule that are traced anyway. */
export const DEFAULT_INLINE_LIST: readonly ModuleRule[] = [
  {
    // The exported shape and dtype helpers are inlined by name (tensor-api.ts); the private helpers they call
    // live in the same two files and must be traced too, or every inlined helper would end in a graph break.
    id: 'inline-list:@kiln/tensor/size+dtype',
    kind: 'inline',
    matcher: { type: 'package', pattern: '@kiln/tensor', within: ['src/size.ts', 'src/dtype.ts', 'dist/size.js', 'dist/dtype.js'] },
    scope: 'call',
    origin: HERE,
    reason: (name, info) => `inlined: ${name} is a pure shape or dtype helper of @kiln/tensor (${info.packagePath}), traced when called from traced code`,
  },
  {
    id: 'inline-list:@kiln/policy/polyfills',
    kind: 'inline',
    matcher: { type: 'path', pattern: `${POLYFILL_DIR}/**` },
    scope: 'call',
    origin: HERE,
    reason: (name) => `inlined: ${name} is a Kiln polyfill, written to be traced in place of a builtin`,
  },
];

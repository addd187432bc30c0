// Where each compile was triggered from in the user's program (tlparse's stack trie): the JavaScript stack
// at the moment a frame starts compiling, minus Kiln's own frames, Node internals and node_modules.
import { createRequire } from 'node:module';
import { dirname, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StackFrame {
  /** The function name as V8 prints it (`main`, `Model.forward`, `<top level>`). */
  readonly fn: string;
  /** A file path (or a URL that is not a file). */
  readonly file: string;
  readonly line: number;
}

const V8_FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):\d+\)?$/;

/**
 * Kiln's package folders (`packages/<name>/src|dist` in the monorepo, or `node_modules/...` once installed)
 * and this plugin's own code: frames there are the compiler at work, not the user's program.
 */
function internalRoots(): readonly string[] {
  const require = createRequire(import.meta.url);
  const coreRoot = dirname(dirname(require.resolve('@kiln/core')));
  const packagesDir = dirname(coreRoot);
  const ownRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  return [packagesDir + sep, ownRoot + sep + 'src' + sep, ownRoot + sep + 'dist' + sep];
}

let roots: readonly string[] | undefined;

function isInternal(file: string): boolean {
  if (file.startsWith('node:') || file.includes(`${sep}node_modules${sep}`) || !isAbsolute(file)) return true;
  roots ??= internalRoots();
  // Under the packages folder only the packages' own code is internal (a test file there is user code).
  const [packagesDir, ...own] = roots;
  if (own.some((r) => file.startsWith(r))) return true;
  return file.startsWith(packagesDir!) && /^[^/\\]+[/\\](src|dist)[/\\]/.test(file.slice(packagesDir!.length));
}

function parseFrame(line: string): StackFrame | undefined {
  const m = V8_FRAME.exec(line);
  if (!m || line.includes('(eval at ') || line.includes('<anonymous>')) return undefined;
  let file = m[2]!;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  const fn = (m[1] ?? '<top level>').replace(/^async /, '').replace(/^Object\.<anonymous>$/, '<top level>');
  return { fn, file, line: Number(m[3]) };
}

/** The user's frames on the current stack, outermost first. */
export function userStack(): StackFrame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 80;
  const text = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = text.split('\n').slice(1).flatMap((l) => parseFrame(l) ?? []);
  return frames.filter((f) => !isInternal(f.file)).reverse();
}

export interface StackTrieNode {
  readonly frame: StackFrame | undefined;
  readonly children: StackTrieNode[];
  /** Compile tags (`[0/0]`) triggered with exactly this stack. */
  readonly compiles: string[];
}

const frameKey = (f: StackFrame): string => `${f.fn}\u0000${f.file}\u0000${f.line}`;

/** Merges stacks that share their outer frames, as tlparse's stack trie does. */
export function buildStackTrie(stacks: readonly { readonly stack: readonly StackFrame[]; readonly tag: string }[]): StackTrieNode {
  const root: StackTrieNode = { frame: undefined, children: [], compiles: [] };
  const index = new Map<StackTrieNode, Map<string, StackTrieNode>>();
  for (const { stack, tag } of stacks) {
    let node = root;
    for (const frame of stack) {
      const kids = index.get(node) ?? index.set(node, new Map()).get(node)!;
      let next = kids.get(frameKey(frame));
      if (!next) {
        next = { frame, children: [], compiles: [] };
        kids.set(frameKey(frame), next);
        node.children.push(next);
      }
      node = next;
    }
    node.compiles.push(tag);
  }
  return root;
}

// Bad arguments to the tree functions (not bad trees): a spec that is not a TreeSpec, leaves that are not
// iterable, a callback that is not a function, misspelled or mistyped options. Each raises ArgumentError
// (a PytreeError, with a hint) instead of an internal TypeError, or being silently ignored.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ArgumentError, CycleError, LeafCountError, PytreeError, SerializationError, StructureMismatchError,
  serializeTreeSpec, treeAllLeaves, treeFlatten, treeLeaves, treeMap, treeMapOnly, treeReduce, treeStructure, treeTranspose,
  treeUnflatten, withOptions,
} from '@kiln/pytree';

const test = suite('bad input: arguments of the tree functions');

function expectError(f: () => unknown, cls: new (...a: any[]) => PytreeError, ...parts: string[]): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, cls, String(e));
    assert.ok((e as PytreeError).hint.length > 0, 'a hint');
    for (const p of parts) assert.ok((e as Error).message.includes(p), `'${(e as Error).message}' should mention ${p}`);
    return;
  }
  assert.unreachable(`expected ${cls.name}`);
}

test('a spec that is not a TreeSpec, leaves that are not iterable', () => {
  const spec = treeStructure([1, 2]);
  expectError(() => treeUnflatten(null as any, [1]), ArgumentError, 'treeUnflatten', "'spec'", 'TreeSpec', 'null');
  expectError(() => treeUnflatten('x' as any, [1]), ArgumentError, 'string');
  expectError(() => treeUnflatten(spec, null as any), ArgumentError, 'iterable', 'null');
  expectError(() => treeUnflatten(spec, 5 as any), ArgumentError, 'iterable', 'number');
  expectError(() => treeUnflatten(spec, [1]), LeafCountError, 'expected 2 leaves but got 1');
  expectError(() => treeTranspose(null as any, null, [1]), ArgumentError, 'treeTranspose', "'outer'");
  expectError(() => serializeTreeSpec(null as any), SerializationError, 'not a TreeSpec');
  expectError(() => withOptions({}).treeUnflatten({} as any, []), ArgumentError, 'TreeSpec');
});

test('callbacks and selectors that are not functions', () => {
  expectError(() => treeMap(3 as any, [1]), ArgumentError, 'treeMap', "'f'", 'number');
  expectError(() => treeReduce(null as any, [1]), ArgumentError, 'treeReduce', 'null');
  expectError(() => treeMapOnly(Number, 3 as any, [1]), ArgumentError, 'treeMapOnly', "'f'");
  expectError(() => treeMapOnly(3 as any, (v) => v, [1]), ArgumentError, 'selector', 'class or a predicate');
  expectError(() => treeAllLeaves(3 as any), ArgumentError, 'treeAllLeaves', 'iterable');
  // An error thrown by the callback itself reaches the caller unchanged, as in eager code.
  assert.throws(() => treeMap(() => { throw new RangeError('mine'); }, [1]), (e: unknown) => e instanceof RangeError && (e as Error).message === 'mine');
});

test('options: non-objects, unknown keys, wrong types and bad maxDepth', () => {
  expectError(() => treeFlatten([1], 3 as any), ArgumentError, 'options must be an object', 'number');
  expectError(() => treeFlatten([1], { maxDepht: 3 } as any), ArgumentError, "unknown tree option 'maxDepht'", 'maxDepth');
  expectError(() => treeLeaves([1], { sortKeys: 'yes' } as any), ArgumentError, "'sortKeys' must be a boolean", 'string');
  expectError(() => treeLeaves([1], { maxDepth: -1 }), ArgumentError, "'maxDepth' must be a positive integer", '-1');
  expectError(() => withOptions({ isLeaf: true } as any), ArgumentError, "'isLeaf' must be a function");
});

test('structure problems keep their own classes', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  expectError(() => treeLeaves(cyclic), CycleError, "['self']");
  expectError(() => treeMap((a: any, b: any) => a + b, { a: 1 }, { b: 1 }), StructureMismatchError, "missing 'a'");
});

test.run();

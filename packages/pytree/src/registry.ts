// The node registry: which classes are pytree nodes, per namespace. Lookups dispatch on the exact
// constructor (a Map keyed by class identity), never on `instanceof` or prototype walks, which V8 makes
// an order of magnitude slower (BENCH.md: getPrototypeOf ≈14 ns vs .constructor ≈1.6 ns).
import { AccessError, RegistrationError, StructureMismatchError, describeThrown } from './errors.js';
import { metaEquals } from './meta.js';

/** Registrations in this namespace are visible to every operation, whatever its `namespace` option. */
export const GLOBAL_NAMESPACE = '__global__';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = any> = abstract new (...args: any[]) => T;

export interface FlattenedNode<M = unknown> {
  readonly children: readonly unknown[];
  readonly meta?: M;
  /** Path keys for the children: numbers print as `[i]`, strings as `.name`. Defaults to indices. */
  readonly keys?: readonly unknown[];
}

export type NodeDefKind = 'custom' | 'dataclass' | 'static';

/** A registered node type, as the flatten / unflatten / serialize code sees it. */
export interface NodeDef<T = unknown, M = unknown> {
  readonly kind: NodeDefKind;
  readonly type: Constructor<T>;
  readonly namespace: string;
  /** Names the class in serialized specs; unique within its namespace. */
  readonly name: string;
  flatten(value: T): FlattenedNode<M>;
  unflatten(meta: M, children: unknown[]): T;
  metaEquals(a: M, b: M): boolean;
  metaToJSON(meta: M): unknown;
  metaFromJSON(json: unknown): M;
  /** dataclass only: field names read directly by generated code. */
  readonly dataFields?: readonly string[];
  readonly metaFields?: readonly string[];
  /** dataclass without a custom `create`: generated code builds instances from this prototype directly. */
  readonly instancePrototype?: object;
}

export interface RegisterOptions<T, M> {
  flatten(value: T): FlattenedNode<M>;
  unflatten(meta: M, children: unknown[]): T;
  namespace: string;
  name?: string;
  metaEquals?(a: M, b: M): boolean;
  metaToJSON?(meta: M): unknown;
  metaFromJSON?(json: unknown): M;
}

export interface DataclassOptions<T> {
  dataFields: readonly string[];
  metaFields?: readonly string[];
  namespace: string;
  name?: string;
  /** Builds an instance from its fields; by default an object with the class's prototype gets them assigned. */
  create?(fields: Record<string, unknown>): T;
}

export interface StaticOptions<T> {
  namespace: string;
  name?: string;
  equals?(a: T, b: T): boolean;
  toJSON?(value: T): unknown;
  fromJSON?(json: unknown): T;
}

const byNamespace = new Map<string, Map<Constructor, NodeDef>>();
const byName = new Map<string, Map<string, NodeDef>>();
let version = 0;

/** Bumped on every (un)registration so that caches of specialized code can drop stale entries. */
export function registryVersion(): number {
  return version;
}

/** The node definition for `type` as seen from `namespace`, or undefined if instances are leaves. */
export function lookupNode(type: unknown, namespace: string): NodeDef | undefined {
  const own = namespace === GLOBAL_NAMESPACE ? undefined : byNamespace.get(namespace)?.get(type as Constructor);
  return own ?? byNamespace.get(GLOBAL_NAMESPACE)?.get(type as Constructor);
}

/** Used by deserialize: the node registered under `name` in `namespace` (or the global namespace). */
export function lookupNodeByName(name: string, namespace: string): NodeDef | undefined {
  return byName.get(namespace)?.get(name) ?? byName.get(GLOBAL_NAMESPACE)?.get(name);
}

/**
 * Runs a registered flatten and checks what it returned, as optree does: `children` an array, `keys` (when
 * given) an array of the same length. Paths and `entries()` are built from the keys, so a short list would
 * name children `undefined` and a long one would invent children. Errors name the class.
 */
export function callFlatten(def: NodeDef, value: unknown): FlattenedNode {
  let flat: FlattenedNode;
  try {
    flat = def.flatten(value);
  } catch (error) {
    throw new AccessError(
      `the registered flatten of ${def.name} threw ${describeThrown(error)}`,
      `check the flatten function registered for ${def.name}`,
      [],
      { cause: error },
    );
  }
  const fix = `make the flatten function registered for ${def.name} return { children: [...], meta?, keys?: [...] } with one key per child`;
  if (flat === null || typeof flat !== 'object' || !Array.isArray(flat.children)) {
    const got = flat === null ? 'null' : typeof flat !== 'object' ? typeof flat : 'an object without a children array';
    throw new StructureMismatchError(`the registered flatten of ${def.name} returned ${got} instead of { children: [...] }`, fix);
  }
  const keys = flat.keys;
  if (keys !== undefined && (!Array.isArray(keys) || keys.length !== flat.children.length)) {
    const got = Array.isArray(keys) ? `${keys.length} keys` : `keys that are not an array (${keys === null ? 'null' : typeof keys})`;
    throw new StructureMismatchError(`the registered flatten of ${def.name} returned ${got} for ${flat.children.length} children`, fix);
  }
  return flat;
}

const BUILT_IN_NODES: ReadonlySet<unknown> = new Set([Array, Object, Map]);

function addDefinition(def: NodeDef): void {
  const where = `namespace '${def.namespace}'`;
  if (typeof def.type !== 'function') {
    throw new RegistrationError(`can only register a class, got ${typeof def.type}`, 'pass the class itself');
  }
  if (BUILT_IN_NODES.has(def.type)) {
    throw new RegistrationError(
      `${def.type.name} is a built-in pytree node and cannot be registered`,
      'wrap the value in your own class and register that',
    );
  }
  if (typeof def.namespace !== 'string' || def.namespace === '') {
    throw new RegistrationError(
      `registering ${def.type.name} needs a namespace`,
      `pass { namespace: 'your-library' } (or GLOBAL_NAMESPACE to make it visible everywhere)`,
    );
  }
  const types = byNamespace.get(def.namespace) ?? new Map<Constructor, NodeDef>();
  const names = byName.get(def.namespace) ?? new Map<string, NodeDef>();
  if (types.has(def.type)) {
    throw new RegistrationError(
      `${def.type.name} is already registered in ${where}`,
      'call unregisterPytreeNode first, or register it in another namespace',
    );
  }
  if (names.has(def.name)) {
    throw new RegistrationError(
      `another class is already registered as '${def.name}' in ${where}`,
      'give one of them a distinct `name` option; serialized specs find classes by it',
    );
  }
  types.set(def.type, def);
  names.set(def.name, def);
  byNamespace.set(def.namespace, types);
  byName.set(def.namespace, names);
  version++;
}

/** Makes instances of exactly `type` (not subclasses) into nodes of the trees flattened in `namespace`. */
export function registerPytreeNode<T, M = unknown>(type: Constructor<T>, options: RegisterOptions<T, M>): void {
  const def: NodeDef<T, M> = {
    kind: 'custom',
    type,
    namespace: options?.namespace,
    name: options?.name ?? type?.name,
    flatten: options?.flatten,
    unflatten: options?.unflatten,
    metaEquals: options?.metaEquals ?? metaEquals,
    metaToJSON: options?.metaToJSON ?? ((meta) => meta),
    metaFromJSON: options?.metaFromJSON ?? ((json) => json as M),
  };
  if (typeof def.flatten !== 'function' || typeof def.unflatten !== 'function') {
    throw new RegistrationError(
      `registering ${type?.name} needs flatten and unflatten functions`,
      'pass { flatten: (x) => ({ children, meta }), unflatten: (meta, children) => x, namespace }',
    );
  }
  addDefinition(def as NodeDef);
}

/** Registers a record-like class: `dataFields` are children (in that order), `metaFields` are structure. */
export function registerDataclass<T extends object>(type: Constructor<T>, options: DataclassOptions<T>): void {
  const dataFields = [...(options?.dataFields ?? [])];
  const metaFields = [...(options?.metaFields ?? [])];
  checkFieldNames(type, dataFields, metaFields);
  const create =
    options.create ??
    ((fields: Record<string, unknown>) => {
      const instance = Object.create(type.prototype) as Record<string, unknown>;
      for (const field of metaFields) instance[field] = fields[field];
      for (const field of dataFields) instance[field] = fields[field];
      return instance as T;
    });
  const def: NodeDef<T, unknown[]> = {
    kind: 'dataclass',
    type,
    namespace: options.namespace,
    name: options.name ?? type.name,
    dataFields,
    metaFields,
    instancePrototype: options.create === undefined ? type.prototype : undefined,
    flatten(value) {
      const record = value as Record<string, unknown>;
      const children = new Array<unknown>(dataFields.length);
      const meta = new Array<unknown>(metaFields.length);
      for (let i = 0; i < dataFields.length; i++) children[i] = record[dataFields[i]!];
      for (let i = 0; i < metaFields.length; i++) meta[i] = record[metaFields[i]!];
      return { children, meta, keys: dataFields };
    },
    unflatten(meta, children) {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < metaFields.length; i++) fields[metaFields[i]!] = meta[i];
      for (let i = 0; i < dataFields.length; i++) fields[dataFields[i]!] = children[i];
      return create(fields);
    },
    metaEquals,
    metaToJSON: (meta) => meta,
    metaFromJSON: (json) => json as unknown[],
  };
  addDefinition(def as NodeDef);
}

function checkFieldNames(type: Constructor, dataFields: string[], metaFields: string[]): void {
  const seen = new Set<string>();
  for (const field of [...dataFields, ...metaFields]) {
    // `constructor` as an own field would hide the class: nodes are found by `.constructor`, so every
    // instance would flatten as a leaf.
    if (typeof field !== 'string' || field === '' || field === '__proto__' || field === 'constructor' || seen.has(field)) {
      throw new RegistrationError(
        `registerDataclass(${type?.name}) got an invalid or repeated field ${JSON.stringify(field)}`,
        'list each field once, as a non-empty string other than __proto__ and constructor, in either dataFields or metaFields',
      );
    }
    seen.add(field);
  }
}

/** Registers a class whose instances are pure metadata: they flatten to no leaves and unflatten to themselves. */
export function registerStatic<T>(type: Constructor<T>, options: StaticOptions<T>): void {
  const def: NodeDef<T, T> = {
    kind: 'static',
    type,
    namespace: options?.namespace,
    name: options?.name ?? type?.name,
    flatten: (value) => ({ children: [], meta: value }),
    unflatten: (meta) => meta,
    metaEquals: options?.equals ?? sameFields,
    metaToJSON: options?.toJSON ?? ((value) => value),
    metaFromJSON: options?.fromJSON ?? ((json) => json as T),
  };
  addDefinition(def as NodeDef);
}

/** Default equality of static values: same class and equal own fields (identity is too strict for dtypes). */
function sameFields(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a.constructor !== b.constructor) return false;
  return metaEquals({ ...a }, { ...b });
}

/** Removes a registration; returns whether there was one. */
export function unregisterPytreeNode(type: Constructor, options: { namespace: string }): boolean {
  const types = byNamespace.get(options?.namespace);
  const def = types?.get(type);
  if (!types || !def) return false;
  types.delete(type);
  byName.get(def.namespace)?.delete(def.name);
  version++;
  return true;
}

// A map whose values are held weakly: an entry lasts while something else holds its value, and is dropped
// once the value is collected. For caches keyed by source text (a code location, generated code) whose
// values the compiled functions hold: they live as long as a user's function can use them, not until reset().
export class WeakValueMap<K, V extends object> {
  private readonly refs = new Map<K, WeakRef<V>>();
  private readonly registry = new FinalizationRegistry<K>((key) => {
    // A value made again for the same key after the old one died must not be dropped with it.
    if (this.refs.get(key)?.deref() === undefined) this.refs.delete(key);
  });

  get(key: K): V | undefined {
    return this.refs.get(key)?.deref();
  }

  set(key: K, value: V): V {
    this.refs.set(key, new WeakRef(value));
    this.registry.register(value, key);
    return value;
  }

  clear(): void {
    this.refs.clear();
  }

  /** Entries not yet dropped (for tests of memory growth). */
  get size(): number {
    return this.refs.size;
  }
}

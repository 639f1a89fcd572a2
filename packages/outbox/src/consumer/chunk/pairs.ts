/**
 * A set of (handler name, idempotency key) pairs, kept as one Set of keys
 * per handler name. The chunk tracks which of its pairs are fresh (inserted
 * by its own event_handled insert); keyed this way it hashes the key strings
 * the claim already returned (a string caches its hash) instead of building,
 * flattening and hashing a joined `handler + NUL + key` string per pair
 * twice per event (PROFILE.md section 7).
 */
export class PairSet {
  private readonly byName = new Map<string, Set<string>>();

  add(name: string, key: string): void {
    let keys = this.byName.get(name);
    if (keys === undefined) {
      keys = new Set<string>();
      this.byName.set(name, keys);
    }
    keys.add(key);
  }

  has(name: string, key: string): boolean {
    return this.byName.get(name)?.has(key) ?? false;
  }

  /** True when the pair was in the set. */
  delete(name: string, key: string): boolean {
    return this.byName.get(name)?.delete(key) ?? false;
  }
}

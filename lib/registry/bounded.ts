// The process-wide caches of the core (hashes, parsed metrics, listings) live as long as a server does; each
// is a Map kept to a fixed number of entries, so a registry whose files keep changing cannot grow one forever.

/**
 * Sets `key` in `map`, a cache of at most `cap` entries: the entry becomes the newest, and the oldest are
 * dropped past the cap. Effects: `map` only.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > cap) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

/** Entries kept per cache: enough for the largest registry measured (20,000 versions, two files each) twice over. */
export const FILE_CACHE_ENTRIES = 100_000;

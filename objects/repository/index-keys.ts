/**
 * Ordering and grouping of index keys. Keys compare as SQLite's ORDER BY does, by bytes: names,
 * versions and architectures are ASCII (Debian Policy §5.6.1, §5.6.12, §11.1), where JavaScript's
 * string order is the same.
 */

/** A member's position in its index: Packages files list stanzas in (name, version, architecture) order. */
export type IndexKey = readonly [name: string, version: string, architecture: string];

/** The key the first chunk of every index, and the first segment of every membership, starts at: below every real key. */
export const FIRST_KEY: IndexKey = ["", "", ""];

export function compareKeys(a: IndexKey, b: IndexKey): number {
  for (let i = 0; i < 3; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The position of the greatest of `starts` (sorted in key order) not above `key`: the range, of
 * a chunk or a membership segment, that holds it; -1 when every start is above it.
 */
export function coveringIndex(starts: readonly IndexKey[], key: IndexKey): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(starts[mid] as IndexKey, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** `Map.groupBy` (ES2024; the project's TypeScript lib stops at ES2023). */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

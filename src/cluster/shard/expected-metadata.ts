/**
 * A post's assumption about its queue's metadata: the api validates a post and fills its
 * ttl/delay defaults from metadata read without a read barrier (possibly stale), and the
 * post carries the values it used (`expectedMetadata`: the reserved keys the api reads,
 * null for an absent key). The FSM applies the post only while the queue's metadata
 * still holds exactly those values; otherwise nothing is applied and the proposer is told
 * to validate again against fresh metadata. A missing or deleted queue has no metadata
 * (a post creates it with none), so every expected key must then be null.
 *
 * The comparison is on plain JSON values, independent of key order and of how the value
 * was decoded, and reads only replicated state, so every replica decides alike.
 */

/** Whether `metadata` (the queue's current metadata, empty for a missing queue) holds every expected value. */
export function holdsExpectedMetadata(metadata: Readonly<Record<string, unknown>>, expected: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(expected).every(([key, value]) => isSameJson(metadata[key] ?? null, value ?? null));
}

function isSameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => isSameJson(item, b[i]));
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const keys = Object.keys(aRecord);
  return keys.length === Object.keys(bRecord).length && keys.every((key) => Object.hasOwn(bRecord, key) && isSameJson(aRecord[key], bRecord[key]));
}

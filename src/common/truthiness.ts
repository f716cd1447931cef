/**
 * Python truthiness of a JSON value: the reference decides its metadata rules (a delay
 * queue, displayed defaults) with it, and both the api and a shard's reads apply them.
 */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/**
 * The length of Python's `json.dumps(value)` (default separators `, ` and `: `,
 * `ensure_ascii=True`). The reference measures WebSocket message posts and queue
 * metadata by the length of their Python text, not of the frame; the HTTP size rules
 * are written against a Content-Length, so the WebSocket actions present this length
 * as one and the same api rule applies.
 */
import type { JsonValue } from '../../api/json-body.js';

export function pythonJsonLength(value: JsonValue): number {
  if (value === null) return 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  if (typeof value === 'number') return String(value).length;
  if (typeof value === 'string') return stringLength(value);
  if (Array.isArray(value)) {
    const items = value.reduce<number>((sum, item) => sum + pythonJsonLength(item), 0);
    return 2 + items + 2 * Math.max(0, value.length - 1);
  }
  const entries = Object.entries(value);
  const fields = entries.reduce((sum, [key, item]) => sum + stringLength(key) + 2 + pythonJsonLength(item), 0);
  return 2 + fields + 2 * Math.max(0, entries.length - 1);
}

function stringLength(text: string): number {
  let extra = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) extra += 5;
  return JSON.stringify(text).length + extra;
}

/**
 * The length of Python's `json.dumps(value)` (default separators `, ` and `: `,
 * `ensure_ascii=True`). The reference measures WebSocket message posts and queue
 * metadata by the length of their Python text, not of the frame; the HTTP size rules
 * are written against a Content-Length, so the WebSocket actions present this length
 * as one and the same api rule applies.
 */
import { EncodedJson } from '../../api/encoded-json.js';
import type { JsonValue } from '../../api/json-body.js';

export function pythonJsonLength(value: JsonValue): number {
  if (value === null) return 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  if (typeof value === 'number') return String(value).length;
  if (typeof value === 'string') return stringLength(value);
  if (Array.isArray(value)) {
    // Brackets, and ", " between items: 2 + 2 (n - 1) = 2n for n > 0.
    let length = Math.max(2, 2 * value.length);
    for (const item of value) length += pythonJsonLength(item);
    return length;
  }
  if (value instanceof EncodedJson) return pythonJsonLength(value.toJSON() as JsonValue);
  // Braces, `"key": value`, and ", " between entries.
  let length = 2;
  let count = 0;
  for (const key in value) {
    length += stringLength(key) + 2 + pythonJsonLength(value[key] ?? null);
    count += 1;
  }
  return length + 2 * Math.max(0, count - 1);
}

/** Printable ASCII but `"` and `\\`: written as is (the common case, tested at native speed). */
const plainText = /^[ !#-[\]-~]*$/;

/** Quotes; `\"`, `\\` and the five short control escapes take 2; other controls and all beyond `~` take 6 (`\uXXXX`). */
function stringLength(text: string): number {
  if (plainText.test(text)) return text.length + 2;
  let length = text.length + 2;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) {
      if (code === 0x22 || code === 0x5c) length += 1;
    } else if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) {
      length += 1;
    } else {
      length += 5;
    }
  }
  return length;
}

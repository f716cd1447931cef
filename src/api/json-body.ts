/**
 * Request-body JSON, parsed the way the reference (Python's json module) sees it.
 *
 * JSON.parse loses two facts the API depends on: whether a number was written as an
 * integer (`60`) or a float (`60.0`, `6e1`) — Zaqar rejects floats where it wants an
 * int — and whether an integer fits in signed 64 bits (`JSON contains integer that is
 * too large.`). This scanner keeps both: it returns plain JS values plus, for every
 * object or array, the keys whose values were written as floats. Input is UTF-8 bytes;
 * invalid UTF-8, a BOM, trailing garbage, NaN/Infinity and a top-level scalar are all
 * "could not be parsed". Nesting depth is bounded so a hostile body cannot overflow
 * the stack.
 */
import { EncodedJson } from './encoded-json.js';
import { BrokerError, invalidBody } from './errors.js';

/** Parsed bodies hold only plain values; a reply can also hold an EncodedJson (a stored message body). */
export type JsonValue = null | boolean | number | string | EncodedJson | JsonValue[] | { [key: string]: JsonValue };

export function isJsonObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof EncodedJson);
}

export interface ParsedJson {
  readonly value: JsonValue;
  /** True when `container[key]` was written as a float literal (had `.`, `e` or `E`). */
  isFloat(container: object, key: string | number): boolean;
}

const depthMax = 512;
/** A JSON number at the cursor (sticky); one of this many characters or more is refused. */
const numberLiteral = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const numberLengthMax = 400;
/** Characters a string holds as written (no quote, backslash or control character), skipped in one step. */
const plainRun = /[^"\\\u0000-\u001f]*/y;
const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const couldNotParse = 'Request body could not be parsed.';

/** Parses a request body; only objects and arrays are accepted at the top level. */
export function parseJsonBody(bytes: Uint8Array): ParsedJson {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new BrokerError('invalid_request_body', couldNotParse, { cause });
  }
  const scanner = new JsonScanner(text);
  const value = scanner.parseDocument();
  if (value === null || typeof value !== 'object') throw invalidBody(couldNotParse);
  const floats = scanner.floats;
  return {
    value,
    isFloat: (container, key) => floats.get(container)?.has(key) ?? false,
  };
}

/** Wraps an already-decoded value (e.g. from msgpack) where ints and floats are not told apart. */
export function trustedJson(value: JsonValue): ParsedJson {
  return { value, isFloat: () => false };
}

class JsonScanner {
  readonly floats = new WeakMap<object, Set<string | number>>();
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipSpace();
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos !== this.text.length) throw this.fail();
    return value;
  }

  private fail(): BrokerError {
    return invalidBody(couldNotParse);
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private parseValue(depth: number): JsonValue {
    if (depth > depthMax) throw this.fail();
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(depth);
    if (c === '[') return this.parseArray(depth);
    if (c === '"') return this.parseString();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.parseNumber().value;
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw this.fail();
    this.pos += word.length;
    return value;
  }

  private parseObject(depth: number): { [key: string]: JsonValue } {
    const object: { [key: string]: JsonValue } = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') throw this.fail();
      const key = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] !== ':') throw this.fail();
      this.pos++;
      this.skipSpace();
      const isFloat = this.peekIsNumber() ? this.noteNumber(object, key) : undefined;
      const value = isFloat === undefined ? this.parseValue(depth + 1) : isFloat;
      // defineProperty: a "__proto__" key must become data, not a prototype change.
      if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
      this.skipSpace();
      const sep = this.text[this.pos++];
      if (sep === '}') return object;
      if (sep !== ',') throw this.fail();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    const array: JsonValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    for (;;) {
      this.skipSpace();
      const number = this.peekIsNumber() ? this.noteNumber(array, array.length) : undefined;
      array.push(number === undefined ? this.parseValue(depth + 1) : number);
      this.skipSpace();
      const sep = this.text[this.pos++];
      if (sep === ']') return array;
      if (sep !== ',') throw this.fail();
    }
  }

  private peekIsNumber(): boolean {
    const c = this.text.charCodeAt(this.pos);
    return c === 0x2d || (c >= 0x30 && c <= 0x39);
  }

  /** Parses the number at the cursor, remembering float literals for `container[key]`. */
  private noteNumber(container: object, key: string | number): number {
    const { value, isFloat } = this.parseNumber();
    if (isFloat) {
      let keys = this.floats.get(container);
      if (keys === undefined) {
        keys = new Set();
        this.floats.set(container, keys);
      }
      keys.add(key);
    }
    return value;
  }

  private parseNumber(): { value: number; isFloat: boolean } {
    numberLiteral.lastIndex = this.pos;
    const match = numberLiteral.exec(this.text);
    if (match === null || match[0].length === 0 || match[0] === '-') throw this.fail();
    const literal = match[0];
    if (literal.length >= numberLengthMax) throw this.fail();
    this.pos += literal.length;
    const isFloat = match[1] !== undefined || match[2] !== undefined;
    // Up to 15 digits always fits in 64 bits: only longer integers need the exact check.
    if (!isFloat && literal.length > 15) {
      const big = BigInt(literal);
      if (big > int64Max || big < int64Min) throw invalidBody('JSON contains integer that is too large.');
    }
    const value = Number(literal);
    if (!Number.isFinite(value)) throw this.fail();
    return { value, isFloat };
  }

  private parseString(): string {
    const t = this.text;
    let out = '';
    let start = ++this.pos;
    for (;;) {
      if (this.pos >= t.length) throw this.fail();
      plainRun.lastIndex = this.pos;
      plainRun.test(t);
      this.pos = plainRun.lastIndex;
      if (this.pos >= t.length) throw this.fail();
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(start, this.pos++);
        return out;
      }
      if (c < 0x20) throw this.fail();
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(start, this.pos);
      out += this.parseEscape();
      start = this.pos;
    }
  }

  private parseEscape(): string {
    const e = this.text[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"': return '"';
      case '\\': return '\\';
      case '/': return '/';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u': {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail();
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        throw this.fail();
    }
  }
}

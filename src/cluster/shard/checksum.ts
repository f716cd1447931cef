/**
 * Message checksums (semantics §3.8): "MD5:" + hex md5 of the body serialised exactly
 * like Python's `json.dumps` with default arguments: separators ", " and ": ", keys in
 * received order, every character outside printable ASCII escaped as \uXXXX (UTF-16
 * code units, lowercase hex), floats in Python's repr form. A null body has none.
 */
import { createHash } from 'node:crypto';

export function messageChecksum(body: unknown): string | null {
  if (body === null) return null;
  return `MD5:${createHash('md5').update(pythonJsonDumps(body), 'utf8').digest('hex')}`;
}

export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map((v: unknown) => pythonJsonDumps(v)).join(', ')}]`;
  // A value held in another form (a body kept as its MessagePack bytes) serialises as JSON.stringify would: as its toJSON().
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return pythonJsonDumps((value as { toJSON: () => unknown }).toJSON());
  }
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonString(k)}: ${pythonJsonDumps(v)}`);
    return `{${parts.join(', ')}}`;
  }
  return 'null';
}

const shortEscapes: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const code = text.charCodeAt(i);
    const short = shortEscapes[ch];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** JSON numbers parse to doubles; integral ones print as Python ints, others as float repr. */
function pythonNumber(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (Number.isInteger(value)) return BigInt(value).toString();
  // Python's repr uses the shortest round-tripping digits (as JS does) but switches to
  // exponent form when the exponent is < -4 or >= 16, written e-05 / e+16.
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

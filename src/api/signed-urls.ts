/**
 * Pre-signed URLs (zaqar-semantics.md §10): HMAC-SHA256 over the sorted paths, sorted
 * methods, project and expiry. The separators inside the signed text are the two
 * characters backslash and `n`, not newlines — that is what the reference signs, so
 * signatures interoperate with python-zaqarclient and the reference's test vectors.
 * Verification is all-or-nothing: any failure is the same 404 for the client.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedUrlInput {
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  /** null signs the literal text `None`, as the reference does for a missing project. */
  readonly project: string | null;
  /** Already formatted `YYYY-MM-DDTHH:MM:SS` (UTC). */
  readonly expiresText: string;
}

export function signUrl(secretKey: string, input: SignedUrlInput): string {
  const separator = '\\n';
  const text = [
    [...input.paths].sort().join(','),
    [...input.methods].sort().join(','),
    input.project ?? 'None',
    input.expiresText,
  ].join(separator);
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(text, 'utf8').digest('hex');
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC, seconds precision, no zone. */
export function formatExpires(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19);
}

const isoPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parses an ISO-8601 date-time the way the reference does (zone-less means UTC; any
 * zone is converted to UTC). Returns epoch milliseconds, or undefined when the text is
 * not a date-time. Integer-looking strings are the caller's concern.
 */
export function parseExpires(text: string): number | undefined {
  const m = isoPattern.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0));
  if (month === undefined || day === undefined || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return undefined;
  const fractionMs = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  let ms = Date.UTC(year ?? 0, month - 1, day, hour, minute, second) + fractionMs;
  if (new Date(ms).getUTCDate() !== day) return undefined;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    ms -= sign * offsetMinutes * 60_000;
  }
  return ms;
}

/** True when the value reads as a plain integer (`"123"`), which the reference refuses as an expiry. */
export function isIntegerLike(text: string): boolean {
  return /^\s*[-+]?\d+\s*$/.test(text);
}

export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly signature: string;
  readonly methodsHeader: string;
  readonly pathsHeader: string;
  readonly expiresHeader: string;
  readonly project: string | null;
}

/** Verifies a request carrying `URL-Signature` (zaqar-semantics.md §10.2). */
export function isValidSignedRequest(secretKey: string | undefined, request: SignedRequest, nowMs: number): boolean {
  if (secretKey === undefined) return false;
  const methods = request.methodsHeader.split(',');
  if (!methods.includes(request.method)) return false;
  const paths = request.pathsHeader.split(',').filter((p) => p !== '');
  if (!paths.some((p) => request.path === p || request.path.startsWith(p.endsWith('/') ? p : `${p}/`))) return false;
  if (isIntegerLike(request.expiresHeader)) return false;
  const expiresMs = parseExpires(request.expiresHeader);
  if (expiresMs === undefined || expiresMs <= nowMs) return false;
  const expected = signUrl(secretKey, {
    paths,
    methods,
    project: request.project,
    expiresText: formatExpires(expiresMs),
  });
  const given = Buffer.from(request.signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * The value of a `queue-entries` record: one message's record and its body in one LMDB
 * value, so a post writes one record per message (plus an id → seq entry only for an
 * id not derived from its seq) instead of a record, a body and an id entry, and a read
 * of a message needs one B-tree lookup.
 *
 *   u8 format (1) | u16 LE header length | header | body bytes
 *
 * The header is a msgpack array of the StoredMessage fields in a fixed order, without
 * field names and without the seq (the key holds it). Ids in the 24-hex-digit form the
 * broker mints, and Client-IDs normalised to 32 hex digits, are stored as bytes (12 and
 * 16 instead of 24 and 32 characters); any other string is stored as given. An id
 * derived from the message's seq (common/ids.ts) is stored as its tail alone (6 bytes),
 * so the header does not depend on the seq.
 *
 * Reading a record never copies or decodes the body: rebuilding the indexes at start
 * decodes headers only, and `entryBody` is a view into the value.
 *
 * A posted message's entry is built once, by the proposer of the post, and travels in
 * the command, so that every replica stores the bytes it received instead of encoding
 * them again (`encodePostedEntry`); the LMDB store keeps a packed post's entries as one
 * record, a run of them (message-run.ts). Its header is written by hand in the same format,
 * with the four time fields as float64s right after the two ids, where `withPostTimes`
 * can rewrite them in a copy for a replica that applies the post at a later time.
 */
import { Packr } from 'msgpackr';
import { assert } from '../common/assert.js';
import { derivedMessageId, seqInMessageId } from '../common/ids.js';
import { readMessageHeader } from './entry-header-reader.js';
import type { StoredMessage } from './queue-store.js';

const format = 1;
const prefixBytes = 3;
const headerFields = 12;
const packr = new Packr({ useRecords: false, moreTypes: false });
const objectIdPattern = /^[0-9a-f]{24}$/;
const clientIdPattern = /^[0-9a-f]{32}$/;
const idTailPattern = /^[0-9a-f]{12}$/;
const idTailStart = 12;
const idTailBytes = 6;

type Header = [
  id: string | Uint8Array,
  clientId: string | Uint8Array,
  createdMs: number,
  ttlSeconds: number,
  expiresMs: number,
  visibleMs: number,
  claimId: string | Uint8Array | null,
  claimExpiresMs: number,
  claimUpdatedMs: number,
  claimTtlSeconds: number,
  claimCount: number,
  checksum: string | null,
];

export function encodeMessageEntry(message: StoredMessage, body: Uint8Array): Uint8Array {
  const header: Header = [
    seqInMessageId(message.id) === message.seq ? Buffer.from(message.id.slice(idTailStart), 'hex') : packHex(message.id, objectIdPattern),
    packHex(message.clientId, clientIdPattern),
    message.createdMs,
    message.ttlSeconds,
    message.expiresMs,
    message.visibleMs,
    message.claimId === null ? null : packHex(message.claimId, objectIdPattern),
    message.claimExpiresMs,
    message.claimUpdatedMs,
    message.claimTtlSeconds,
    message.claimCount,
    message.checksum,
  ];
  const packed = packr.pack(header);
  assert(packed.byteLength <= 0xffff, 'message header longer than 64 KiB');
  const entry = Buffer.allocUnsafe(prefixBytes + packed.byteLength + body.byteLength);
  entry[0] = format;
  entry.writeUInt16LE(packed.byteLength, 1);
  entry.set(packed, prefixBytes);
  entry.set(body, prefixBytes + packed.byteLength);
  return entry;
}

/** The fields a post sets; the claim fields of a new message are all empty. */
export type PostedRecord = Pick<StoredMessage, 'clientId' | 'createdMs' | 'ttlSeconds' | 'expiresMs' | 'visibleMs' | 'checksum'> & {
  /** The message's id, or only the tail of an id derived from the seq it gets at apply (12 hex digits). */
  readonly id: string;
};

export type PostTimes = Pick<StoredMessage, 'createdMs' | 'expiresMs' | 'visibleMs'>;

const msgpackFloat64 = 0xcb;
const msgpackNil = 0xc0;
const msgpackBin8 = 0xc4;
const float64Element = 9;
/** The header elements after the times: claimId (nil), four zeros (fixints). */
const emptyClaim = Buffer.from([msgpackNil, 0, 0, 0, 0]);

/** The entry `encodeMessageEntry` would write for a new message, headers spelled out by hand (see top). */
export function encodePostedEntry(record: PostedRecord, body: Uint8Array): Uint8Array {
  return encodePostedEntries(record.clientId, [record], [body])[0]!;
}

/** A new message's fields in its entry but the Client-ID, which a post gives all its messages. */
export type PostedFields = Omit<PostedRecord, 'clientId'>;

/**
 * The entries `encodePostedEntry` writes for a post's messages (`records[i]` with
 * `bodies[i]`), in one allocation, views of it: the Client-ID's element is written once
 * for all of them.
 */
export function encodePostedEntries(clientId: string, records: readonly PostedFields[], bodies: readonly Uint8Array[]): Uint8Array[] {
  return entryViews(packPostedEntries(clientId, records, bodies));
}

/** Each entry of `packed` as a view of its byte string. */
export function entryViews({ entries, lengths }: PackedEntries): Uint8Array[] {
  const views: Uint8Array[] = [];
  let start = 0;
  for (const length of lengths) {
    views.push(entries.subarray(start, start + length));
    start += length;
  }
  return views;
}

/** A post's entries back to back in one byte string, and the byte length of each. */
export interface PackedEntries {
  readonly entries: Uint8Array;
  readonly lengths: readonly number[];
}

/** The entries `encodePostedEntries` writes, as the one byte string they are written into. */
export function packPostedEntries(clientId: string, records: readonly PostedFields[], bodies: readonly Uint8Array[]): PackedEntries {
  const client = headerElement(clientId, clientIdPattern);
  const fixedLength = 1 + client.byteLength + 4 * float64Element + emptyClaim.length;
  const idPatterns = records.map(({ id }) => (idTailPattern.test(id) ? idTailPattern : objectIdPattern.test(id) ? objectIdPattern : null));
  const headerLengths = records.map((record, i) => fixedLength + elementLength(record.id, idPatterns[i]!)
    + (record.checksum === null ? 1 : elementLength(record.checksum, null)));
  let total = 0;
  for (let i = 0; i < records.length; i++) total += prefixBytes + headerLengths[i]! + bodies[i]!.byteLength;
  const target = Buffer.allocUnsafe(total);
  // Buffer's writeDoubleBE copies byte by byte in JavaScript; a DataView's setFloat64 is compiled inline.
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  const lengths: number[] = [];
  let start = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const headerLength = headerLengths[i]!;
    assert(headerLength <= 0xffff, 'message header longer than 64 KiB');
    target[start] = format;
    target.writeUInt16LE(headerLength, start + 1);
    target[start + prefixBytes] = 0x90 | headerFields;
    let at = writeElement(target, start + prefixBytes + 1, record.id, idPatterns[i]!);
    target.set(client, at);
    at += client.byteLength;
    at = writeFloat64(view, at, record.createdMs);
    at = writeFloat64(view, at, record.ttlSeconds);
    at = writeFloat64(view, at, record.expiresMs);
    at = writeFloat64(view, at, record.visibleMs);
    target.set(emptyClaim, at);
    at += emptyClaim.length;
    if (record.checksum === null) target[at++] = msgpackNil;
    else at = writeElement(target, at, record.checksum, null);
    const body = bodies[i]!;
    target.set(body, at);
    const end = at + body.byteLength;
    lengths.push(end - start);
    start = end;
  }
  return { entries: target, lengths };
}

function writeFloat64(view: DataView, at: number, value: number): number {
  view.setUint8(at, msgpackFloat64);
  view.setFloat64(at + 1, value);
  return at + float64Element;
}

/** The header element for `value` (see `elementLength`) on its own. */
function headerElement(value: string, pattern: RegExp): Buffer {
  const form = pattern.test(value) ? pattern : null;
  const element = Buffer.allocUnsafe(elementLength(value, form));
  writeElement(element, 0, value, form);
  return element;
}

/** A copy of an `encodePostedEntry` entry with other times (ttl, ids and body unchanged). */
export function withPostTimes(entry: Uint8Array, times: PostTimes): Uint8Array {
  const copy = Buffer.from(entry);
  writePostTimes(copy, times);
  return copy;
}

/** Writes other times into an `encodePostedEntry` entry in place (`withPostTimes`; the caller's copy). */
export function writePostTimes(entry: Buffer, times: PostTimes): void {
  const at = skipString(entry, skipString(entry, prefixBytes + 1));
  assert(entry[at] === msgpackFloat64 && entry[at + 2 * float64Element] === msgpackFloat64, 'not a posted message entry');
  entry.writeDoubleBE(times.createdMs, at + 1);
  entry.writeDoubleBE(times.expiresMs, at + 2 * float64Element + 1);
  entry.writeDoubleBE(times.visibleMs, at + 3 * float64Element + 1);
}

/**
 * The entry of an update of `message` (same id, Client-ID and checksum; new lifetime or
 * claim count) written over a copy of its entry in the `encodePostedEntry` layout, without
 * encoding the header again; undefined when the entry has another layout or the message
 * holds what that layout cannot (claim fields, a claim count above a fixint).
 */
export function withUpdatedFields(entry: Uint8Array, message: StoredMessage): Uint8Array | undefined {
  if (message.claimId !== null || message.claimExpiresMs !== 0 || message.claimUpdatedMs !== 0 || message.claimTtlSeconds !== 0
    || !(message.claimCount >= 0 && message.claimCount < 0x80 && Number.isInteger(message.claimCount))) return undefined;
  const view = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view[0] !== format || view[prefixBytes] !== (0x90 | headerFields)) return undefined;
  const at = skipString(view, skipString(view, prefixBytes + 1));
  const claimAt = at + 4 * float64Element;
  for (let field = 0; field < 4; field++) if (view[at + field * float64Element] !== msgpackFloat64) return undefined;
  for (let i = 0; i < emptyClaim.length - 1; i++) if (view[claimAt + i] !== emptyClaim[i]) return undefined;
  if ((view[claimAt + emptyClaim.length - 1] ?? 0x80) >= 0x80) return undefined;
  const copy = Buffer.from(view);
  [message.createdMs, message.ttlSeconds, message.expiresMs, message.visibleMs]
    .forEach((value, field) => copy.writeDoubleBE(value, at + field * float64Element + 1));
  copy[claimAt + emptyClaim.length - 1] = message.claimCount;
  return copy;
}

export function decodeMessageEntry(entry: Uint8Array, seq: number): StoredMessage {
  const end = prefixBytes + headerLength(entry);
  return readMessageHeader(entry, prefixBytes, end, seq) ?? unpackMessageHeader(entry.subarray(prefixBytes, end), seq);
}

/** `decodeMessageEntry` through msgpackr, for a header with an element `readMessageHeader` does not read. */
function unpackMessageHeader(packed: Uint8Array, seq: number): StoredMessage {
  const header = packr.unpack(packed) as Header;
  assert(Array.isArray(header) && header.length === headerFields, 'malformed queue entry header');
  const [id, clientId, createdMs, ttlSeconds, expiresMs, visibleMs, claimId, claimExpiresMs, claimUpdatedMs, claimTtlSeconds, claimCount, checksum] = header;
  return {
    id: id instanceof Uint8Array && id.byteLength === idTailBytes ? derivedMessageId(seq, unpackHex(id)) : unpackHex(id),
    seq,
    clientId: unpackHex(clientId),
    createdMs,
    ttlSeconds,
    expiresMs,
    visibleMs,
    claimId: claimId === null ? null : unpackHex(claimId),
    claimExpiresMs,
    claimUpdatedMs,
    claimTtlSeconds,
    claimCount,
    checksum,
  };
}

/** Whether the entry's message has the id derived from its seq with the tail of `id` (a 24-hex-digit id). */
export function entryHoldsIdTail(entry: Uint8Array, id: string): boolean {
  const at = prefixBytes + 1;
  return entry[at] === msgpackBin8 && entry[at + 1] === idTailBytes
    && Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('hex', at + 2, at + 2 + idTailBytes) === id.slice(idTailStart);
}

/** The body part of an entry (a view, not a copy). */
export function entryBody(entry: Uint8Array): Uint8Array {
  return entry.subarray(prefixBytes + headerLength(entry));
}

function headerLength(entry: Uint8Array): number {
  assert(entry.byteLength >= prefixBytes && entry[0] === format, 'unknown queue entry format');
  const length = (entry[1] ?? 0) | ((entry[2] ?? 0) << 8);
  assert(prefixBytes + length <= entry.byteLength, 'truncated queue entry');
  return length;
}

/** Bytes of a header element for `value`: its hex digits as bin when `hex` (the caller checked the form), else a msgpack string. */
function elementLength(value: string, hex: RegExp | null): number {
  if (hex !== null) return 2 + value.length / 2;
  const bytes = Buffer.byteLength(value, 'utf8');
  return stringHeaderLength(bytes) + bytes;
}

function stringHeaderLength(bytes: number): number {
  if (bytes < 32) return 1;
  if (bytes < 0x100) return 2;
  return bytes < 0x10000 ? 3 : 5;
}

function writeElement(entry: Buffer, at: number, value: string, hex: RegExp | null): number {
  if (hex !== null) {
    entry[at] = msgpackBin8;
    entry[at + 1] = value.length / 2;
    return writeHexDigits(entry, at + 2, value);
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  const header = stringHeaderLength(bytes);
  if (header === 1) entry[at] = 0xa0 | bytes;
  else if (header === 2) entry.writeUInt16BE(0xd900 | bytes, at);
  else if (header === 3) {
    entry[at] = 0xda;
    entry.writeUInt16BE(bytes, at + 1);
  } else {
    entry[at] = 0xdb;
    entry.writeUInt32BE(bytes, at + 1);
  }
  return at + header + entry.write(value, at + header, 'utf8');
}

/** Writes lowercase hex digits as bytes (what `Buffer.write(…, 'hex')` does, without a native call for a dozen bytes). */
function writeHexDigits(entry: Buffer, at: number, digits: string): number {
  for (let i = 0; i < digits.length; i += 2) entry[at++] = (hexValue(digits.charCodeAt(i)) << 4) | hexValue(digits.charCodeAt(i + 1));
  return at;
}

function hexValue(code: number): number {
  return code <= 0x39 ? code - 0x30 : code - 0x57;
}

/** The position after the bin or string element at `at`. */
function skipString(entry: Buffer, at: number): number {
  const tag = entry[at] ?? 0;
  if (tag === msgpackBin8 || tag === 0xd9) return at + 2 + (entry[at + 1] ?? 0);
  if ((tag & 0xe0) === 0xa0) return at + 1 + (tag & 0x1f);
  if (tag === 0xda) return at + 3 + entry.readUInt16BE(at + 1);
  assert(tag === 0xdb, 'not a posted message entry');
  return at + 5 + entry.readUInt32BE(at + 1);
}

function packHex(value: string, pattern: RegExp): string | Uint8Array {
  return pattern.test(value) ? Buffer.from(value, 'hex') : value;
}

function unpackHex(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

/**
 * Reads a `queue-entries` header (message-entry.ts: a msgpack array of the 12 StoredMessage
 * fields) without a general msgpack decoder: every claim, delete, list and restart reads
 * the headers of the messages it touches, and msgpackr's `unpack` plus a Buffer and a
 * native hex conversion per id cost several times this walk over a few dozen bytes.
 *
 * It reads the element types the header's writers produce (msgpackr's `pack` of the
 * header, and the posted layout written by hand): nil, booleans, integers, floats, strings
 * and bin. Anything else gives undefined, and the caller falls back to msgpackr.
 */
import { derivedMessageId } from '../common/ids.js';
import type { StoredMessage } from './queue-store.js';

// As in message-entry.ts, which imports this module.
const headerFields = 12;
const idTailBytes = 6;
const hexDigits = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const utf8 = new TextDecoder();

/** Where the next element starts (< 0: an element this reader does not read), and the byte length of the last one if it was bin (else -1). */
interface Cursor {
  at: number;
  binLength: number;
}

/**
 * The message whose header is `entry[start, end)`, as message-entry.ts `decodeMessageEntry`
 * reads it (ids stored as bin read as their hex digits; an id stored as a 6-byte tail is
 * the id derived from `seq`), or undefined if the header holds an element this reader
 * does not read.
 */
export function readMessageHeader(entry: Uint8Array, start: number, end: number, seq: number): StoredMessage | undefined {
  if (entry[start] !== (0x90 | headerFields)) return undefined;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const cursor: Cursor = { at: start + 1, binLength: -1 };
  const fields: unknown[] = [];
  let idIsTail = false;
  for (let i = 0; i < headerFields; i++) {
    cursor.binLength = -1;
    const value = readElement(entry, view, cursor, end);
    if (cursor.at < 0) return undefined;
    if (i === 0) idIsTail = cursor.binLength === idTailBytes;
    fields.push(value);
  }
  if (cursor.at !== end) return undefined;
  const [id, clientId, createdMs, ttlSeconds, expiresMs, visibleMs, claimId, claimExpiresMs, claimUpdatedMs, claimTtlSeconds, claimCount, checksum] = fields;
  return {
    id: idIsTail ? derivedMessageId(seq, id as string) : (id as string),
    seq,
    clientId: clientId as string,
    createdMs: createdMs as number,
    ttlSeconds: ttlSeconds as number,
    expiresMs: expiresMs as number,
    visibleMs: visibleMs as number,
    claimId: claimId as string | null,
    claimExpiresMs: claimExpiresMs as number,
    claimUpdatedMs: claimUpdatedMs as number,
    claimTtlSeconds: claimTtlSeconds as number,
    claimCount: claimCount as number,
    checksum: checksum as string | null,
  };
}

function readElement(bytes: Uint8Array, view: DataView, cursor: Cursor, end: number): unknown {
  const at = cursor.at;
  if (at >= end) return fail(cursor);
  const tag = bytes[at]!;
  if (tag < 0x80) return advance(cursor, at + 1, tag);
  if (tag >= 0xe0) return advance(cursor, at + 1, tag - 0x100);
  if ((tag & 0xe0) === 0xa0) return readString(bytes, cursor, at + 1, tag & 0x1f, end);
  switch (tag) {
    case 0xc0: return advance(cursor, at + 1, null);
    case 0xc2: return advance(cursor, at + 1, false);
    case 0xc3: return advance(cursor, at + 1, true);
    case 0xc4: return at + 2 > end ? fail(cursor) : readBin(bytes, cursor, at + 2, bytes[at + 1]!, end);
    case 0xca: return at + 5 > end ? fail(cursor) : advance(cursor, at + 5, view.getFloat32(at + 1));
    case 0xcb: return at + 9 > end ? fail(cursor) : advance(cursor, at + 9, view.getFloat64(at + 1));
    case 0xcc: return at + 2 > end ? fail(cursor) : advance(cursor, at + 2, view.getUint8(at + 1));
    case 0xcd: return at + 3 > end ? fail(cursor) : advance(cursor, at + 3, view.getUint16(at + 1));
    case 0xce: return at + 5 > end ? fail(cursor) : advance(cursor, at + 5, view.getUint32(at + 1));
    case 0xcf: return at + 9 > end ? fail(cursor) : advance(cursor, at + 9, Number(view.getBigUint64(at + 1)));
    case 0xd0: return at + 2 > end ? fail(cursor) : advance(cursor, at + 2, view.getInt8(at + 1));
    case 0xd1: return at + 3 > end ? fail(cursor) : advance(cursor, at + 3, view.getInt16(at + 1));
    case 0xd2: return at + 5 > end ? fail(cursor) : advance(cursor, at + 5, view.getInt32(at + 1));
    case 0xd3: return at + 9 > end ? fail(cursor) : advance(cursor, at + 9, Number(view.getBigInt64(at + 1)));
    case 0xd9: return at + 2 > end ? fail(cursor) : readString(bytes, cursor, at + 2, bytes[at + 1]!, end);
    case 0xda: return at + 3 > end ? fail(cursor) : readString(bytes, cursor, at + 3, view.getUint16(at + 1), end);
    case 0xdb: return at + 5 > end ? fail(cursor) : readString(bytes, cursor, at + 5, view.getUint32(at + 1), end);
    default: return fail(cursor);
  }
}

function advance(cursor: Cursor, next: number, value: unknown): unknown {
  cursor.at = next;
  return value;
}

function fail(cursor: Cursor): undefined {
  cursor.at = -1;
  return undefined;
}

function readString(bytes: Uint8Array, cursor: Cursor, from: number, length: number, end: number): unknown {
  if (from + length > end) return fail(cursor);
  return advance(cursor, from + length, utf8.decode(bytes.subarray(from, from + length)));
}

/**
 * The last 16-byte bin read (a Client-ID; ids are 6 or 12 bytes), as bytes and hex digits
 * ('' until one is read): the messages a claim or a list reads mostly come from a few
 * producers, and comparing 16 bytes costs a fraction of converting them.
 */
const lastClient = { bytes: new Uint8Array(16), hex: '' };

/** A bin element as the hex digits of its bytes (the header's ids; `unpackHex` of message-entry.ts). */
function readBin(bytes: Uint8Array, cursor: Cursor, from: number, length: number, end: number): unknown {
  if (from + length > end) return fail(cursor);
  cursor.binLength = length;
  const isClientSized = length === lastClient.bytes.length;
  if (isClientSized && lastClient.hex !== '' && sameBytes(bytes, from, lastClient.bytes)) return advance(cursor, from + length, lastClient.hex);
  let hex = '';
  for (let i = from; i < from + length; i++) hex += hexDigits[bytes[i]!]!;
  if (isClientSized) {
    lastClient.bytes.set(bytes.subarray(from, from + length));
    lastClient.hex = hex;
  }
  return advance(cursor, from + length, hex);
}

function sameBytes(bytes: Uint8Array, from: number, other: Uint8Array): boolean {
  for (let i = 0; i < other.length; i++) if (bytes[from + i] !== other[i]) return false;
  return true;
}

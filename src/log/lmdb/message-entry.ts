/**
 * The value of a `queue-entries` record: one message's record and its body in one LMDB
 * value, so a post writes one record per message (plus its id → seq entry) instead of
 * a record, a body and an id entry, and a read of a message needs one B-tree lookup.
 *
 *   u8 format (1) | u16 LE header length | header | body bytes
 *
 * The header is a msgpack array of the StoredMessage fields in a fixed order, without
 * field names and without the seq (the key holds it). Ids in the 24-hex-digit form the
 * broker mints, and Client-IDs normalised to 32 hex digits, are stored as bytes (12 and
 * 16 instead of 24 and 32 characters); any other string is stored as given.
 *
 * Reading a record never copies or decodes the body: rebuilding the indexes at start
 * decodes headers only, and `entryBody` is a view into the value.
 */
import { Packr } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { StoredMessage } from '../queue-store.js';

const format = 1;
const prefixBytes = 3;
const packr = new Packr({ useRecords: false, moreTypes: false });
const objectIdPattern = /^[0-9a-f]{24}$/;
const clientIdPattern = /^[0-9a-f]{32}$/;

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
    packHex(message.id, objectIdPattern),
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

export function decodeMessageEntry(entry: Uint8Array, seq: number): StoredMessage {
  const header = packr.unpack(entry.subarray(prefixBytes, prefixBytes + headerLength(entry))) as Header;
  assert(Array.isArray(header) && header.length === 12, 'malformed queue entry header');
  const [id, clientId, createdMs, ttlSeconds, expiresMs, visibleMs, claimId, claimExpiresMs, claimUpdatedMs, claimTtlSeconds, claimCount, checksum] = header;
  return {
    id: unpackHex(id),
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

function packHex(value: string, pattern: RegExp): string | Uint8Array {
  return pattern.test(value) ? Buffer.from(value, 'hex') : value;
}

function unpackHex(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

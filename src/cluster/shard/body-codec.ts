/**
 * Message bodies travel in commands and rest in storage as msgpack bytes: encoded once
 * by the proposer, stored as is by every replica, decoded only when a read returns them.
 * Plain maps and arrays (no records) so any JSON value round-trips with its key order.
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export function encodeBody(body: unknown): Uint8Array {
  return packr.pack(body);
}

export function decodeBody(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

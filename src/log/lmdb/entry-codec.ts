/**
 * On-disk encoding of one Raft entry, checksummed so that a flipped bit or a cut value
 * is detected on every read instead of being replicated or applied.
 *
 * Layout (little endian), 28-byte header then the data:
 *   0  u32 checksum (CRC-32 of bytes 4..end)
 *   4  u8  format version (1)
 *   5  u8  entry type
 *   6  u16 reserved, 0
 *   8  f64 term    (integers up to 2^53 are exact)
 *   16 f64 index
 *   24 u32 data length
 *   28 data
 * The index is stored although it is also the key's second element, so a value that
 * lands under the wrong key is caught as well. The length must match the value's size
 * exactly, which catches truncation even where the checksum alone might not.
 */
import type { Entry, EntryType, LogIndex, Term } from '../../raft/types.js';
import { assert } from '../../common/assert.js';
import { checksum } from './checksum.js';

const formatVersion = 1;
const headerBytes = 28;
const knownEntryTypes = new Set<number>([0, 1]);

export function encodeEntry(entry: Entry): Buffer {
  assert(Number.isSafeInteger(entry.term) && entry.term >= 0, () => `entry term ${entry.term} is not a term`);
  assert(Number.isSafeInteger(entry.index) && entry.index > 0, () => `entry index ${entry.index} is not an index`);
  const bytes = Buffer.allocUnsafe(headerBytes + entry.data.byteLength);
  bytes[4] = formatVersion;
  bytes[5] = entry.type;
  bytes.writeUInt16LE(0, 6);
  bytes.writeDoubleLE(entry.term, 8);
  bytes.writeDoubleLE(entry.index, 16);
  bytes.writeUInt32LE(entry.data.byteLength, 24);
  bytes.set(entry.data, headerBytes);
  bytes.writeUInt32LE(checksum(bytes.subarray(4)), 0);
  return bytes;
}

/**
 * Decodes a stored entry, or returns `undefined` if it fails verification (checksum,
 * version, length, type). The returned `data` is a copy: lmdb may reuse read buffers.
 */
export function decodeEntry(bytes: Uint8Array): Entry | undefined {
  if (bytes.byteLength < headerBytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== checksum(bytes.subarray(4))) return undefined;
  if (bytes[4] !== formatVersion) return undefined;
  const type = bytes[5];
  if (type === undefined || !knownEntryTypes.has(type)) return undefined;
  const dataBytes = view.getUint32(24, true);
  if (headerBytes + dataBytes !== bytes.byteLength) return undefined;
  return {
    term: view.getFloat64(8, true) as Term,
    index: view.getFloat64(16, true) as LogIndex,
    type: type as EntryType,
    data: new Uint8Array(bytes.subarray(headerBytes)),
  };
}

/** Bytes an entry counts for against `bytesMax`: its data, as the core sizes proposals. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength;
}

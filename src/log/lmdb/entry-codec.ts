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
 *
 * A stored record holds a run: the entries of one persist, each in the layout above, one
 * after the other, keyed by the first one's index (a record of one entry, as earlier
 * builds wrote every entry, is a run of one). One record per persist is one LMDB put and
 * one B-tree insert instead of one per entry. Each entry keeps its own checksum, so damage
 * is still found, and reported, at the entry it hit; the entries before it stay readable.
 */
import type { Entry, EntryType, LogIndex, Term } from '../../raft/types.js';
import { assert } from '../../common/assert.js';
import { checksum } from './checksum.js';

const formatVersion = 1;
const headerBytes = 28;
const knownEntryTypes = new Set<number>([0, 1]);

export function encodeEntry(entry: Entry): Buffer {
  const bytes = Buffer.allocUnsafe(headerBytes + entry.data.byteLength);
  writeEntry(bytes, entry);
  return bytes;
}

/** The record of a run of consecutive entries (see above), in one buffer. */
export function encodeEntryRun(entries: readonly Entry[]): Buffer {
  let size = 0;
  for (const entry of entries) size += headerBytes + entry.data.byteLength;
  const run = Buffer.allocUnsafe(size);
  let at = 0;
  for (const entry of entries) {
    const end = at + headerBytes + entry.data.byteLength;
    writeEntry(run.subarray(at, end), entry);
    at = end;
  }
  return run;
}

function writeEntry(bytes: Buffer, entry: Entry): void {
  assert(Number.isSafeInteger(entry.term) && entry.term >= 0, () => `entry term ${entry.term} is not a term`);
  assert(Number.isSafeInteger(entry.index) && entry.index > 0, () => `entry index ${entry.index} is not an index`);
  bytes[4] = formatVersion;
  bytes[5] = entry.type;
  bytes.writeUInt16LE(0, 6);
  bytes.writeDoubleLE(entry.term, 8);
  bytes.writeDoubleLE(entry.index, 16);
  bytes.writeUInt32LE(entry.data.byteLength, 24);
  bytes.set(entry.data, headerBytes);
  bytes.writeUInt32LE(checksum(bytes.subarray(4)), 0);
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

/** Where one entry of a run sits: `index` is read from its header, not yet verified. */
export interface EntrySpan {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The entries of a stored run, in order, found by their length fields alone (nothing is
 * verified). A span that would run past the record, or a header cut short, ends the walk.
 */
export function entrySpans(run: Uint8Array): EntrySpan[] {
  const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
  const spans: EntrySpan[] = [];
  for (let start = 0; start + headerBytes <= run.byteLength; ) {
    const end = start + headerBytes + view.getUint32(start + 24, true);
    if (end > run.byteLength) break;
    spans.push({ index: view.getFloat64(start + 16, true), start, end });
    start = end;
  }
  return spans;
}

/**
 * The verified entries of a stored run with index in [lo, hi), in order, up to the first
 * that fails verification or is cut off. Entries before `lo` are stepped over unverified
 * (a compaction may leave them behind, and nothing reads them).
 */
export function decodeEntryRun(run: Uint8Array, lo = 0, hi = Number.POSITIVE_INFINITY): Entry[] {
  const entries: Entry[] = [];
  for (const span of entrySpans(run)) {
    if (span.index < lo) continue;
    if (span.index >= hi) break;
    const entry = decodeEntry(run.subarray(span.start, span.end));
    if (entry === undefined) break;
    entries.push(entry);
  }
  return entries;
}

/** Bytes an entry counts for against `bytesMax`: its data, as the core sizes proposals. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength;
}

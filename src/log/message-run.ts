/**
 * The value of a `queue-entries` record that holds a run of messages: the entries
 * (message-entry.ts) of messages at consecutive seqs, as one post stored them, under the
 * key of the run's first seq. A post of ten messages then costs one LMDB put, one
 * lmdb-js write instruction and one B-tree descent instead of ten.
 *
 *   u8 format (2) | u32 LE count | count × u32 LE seq offset | count × u32 LE entry length | entries
 *
 * A member's seq is the record's key plus its offset; offsets ascend. Removing a member
 * rewrites the run without it (the key stays, so the run's range only shrinks: runs and
 * single records never overlap, and the record at or before a seq is the only one that
 * can hold it); removing the last member removes the record. Rewriting rather than
 * marking keeps a consumed run's record as small as what it still holds, and a run is a
 * post's messages (a few KiB at most), so a rewrite copies little.
 *
 * The first byte tells a run from a single entry (format 1), so stores written with one
 * record per message read on beside runs without a migration. The entries are copied
 * once into the record (a post's packed entries carry no lengths of their own).
 */
import { assert } from '../common/assert.js';

const runFormat = 2;
const countAt = 1;
const tableAt = 5;

export function isMessageRun(value: Uint8Array): boolean {
  return value[0] === runFormat;
}

/** A run of entries back to back in `entries` (each `lengths[i]` bytes) at seq offsets 0, 1, 2, …. */
export function encodeMessageRun(entries: Uint8Array, lengths: readonly number[]): Uint8Array {
  const count = lengths.length;
  const start = tableAt + 8 * count;
  const run = Buffer.allocUnsafe(start + entries.byteLength);
  run[0] = runFormat;
  run.writeUInt32LE(count, countAt);
  for (let i = 0; i < count; i++) {
    run.writeUInt32LE(i, tableAt + 4 * i);
    run.writeUInt32LE(lengths[i]!, tableAt + 4 * (count + i));
  }
  run.set(entries, start);
  return run;
}

/** A decoded view of a run record: its members' seq offsets and entries (views into the record). */
export class MessageRun {
  readonly offsets: number[] = [];
  readonly entries: Uint8Array[] = [];

  constructor(readonly value: Uint8Array) {
    assert(isMessageRun(value) && value.byteLength >= tableAt, 'not a message run');
    const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const count = view.readUInt32LE(countAt);
    let at = tableAt + 8 * count;
    assert(at <= value.byteLength, 'truncated message run');
    for (let i = 0; i < count; i++) {
      const length = view.readUInt32LE(tableAt + 4 * (count + i));
      assert(at + length <= value.byteLength, 'truncated message run');
      this.offsets.push(view.readUInt32LE(tableAt + 4 * i));
      this.entries.push(value.subarray(at, at += length));
    }
  }

  /** The index of the member at `offset`, or -1. */
  indexOf(offset: number): number {
    const offsets = this.offsets;
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = offsets[mid]!;
      if (at === offset) return mid;
      if (at < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The largest seq offset the run spans (members at or below it may have been removed). */
  lastOffset(): number {
    return this.offsets[this.offsets.length - 1] ?? -1;
  }

  /** A new record with member `index`'s entry replaced by `entry`. */
  with(index: number, entry: Uint8Array): MessageRun {
    const entries = this.entries.slice();
    entries[index] = entry;
    return runOf(this.offsets, entries);
  }

  /** A new record without the members at `indexes`. */
  without(indexes: ReadonlySet<number>): MessageRun {
    return runOf(this.offsets.filter((_, i) => !indexes.has(i)), this.entries.filter((_, i) => !indexes.has(i)));
  }
}

function runOf(offsets: readonly number[], entries: readonly Uint8Array[]): MessageRun {
  const count = offsets.length;
  let at = tableAt + 8 * count;
  let total = at;
  for (const member of entries) total += member.byteLength;
  const run = Buffer.allocUnsafe(total);
  run[0] = runFormat;
  run.writeUInt32LE(count, countAt);
  for (let i = 0; i < count; i++) {
    run.writeUInt32LE(offsets[i]!, tableAt + 4 * i);
    run.writeUInt32LE(entries[i]!.byteLength, tableAt + 4 * (count + i));
    run.set(entries[i]!, at);
    at += entries[i]!.byteLength;
  }
  return new MessageRun(run);
}

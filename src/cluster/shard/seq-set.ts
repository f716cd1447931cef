/**
 * A compact ordered set of a queue's messages by seq, with each message's expiry and
 * end of delay, so the claim path can skip expired and delayed messages without
 * touching storage.
 *
 * Layout: runs of consecutive seqs that share their expiry and end of delay (the messages
 * of one post do: one apply time, one ttl and delay), each four numbers (first seq,
 * length, expiry, end of delay), in a list of chunks of up to `chunkRunsMax` runs, each
 * chunk one flat number array of four numbers per run (no per-message object). A post of
 * 100 messages is one run: ~0.3 bytes per message instead of 24 for one entry each
 * (1,000,000 queued messages: ~35 MB of arrays before). Messages that share nothing cost
 * one run each (32 bytes). A set of one run (a queue holding one post) is three small
 * objects, ~200 bytes: with 10,000 such queues four arrays per chunk, each grown from
 * empty, cost ~5 MB more.
 *
 * Posts extend or append to the last run; claims take from the front; deletes, releases
 * and expired claims remove from or re-insert into the middle, splitting or merging runs.
 * Each operation binary-searches the chunk list and then works inside one chunk, so its
 * cost grows with log(runs), not depth.
 *
 * Invariants: runs are in increasing seq order and never overlap; within a chunk, runs
 * that touch have different times (an add that closes a gap between runs with its times
 * merges them); every run holds at least one seq; no chunk is empty.
 */
import { assert } from '../../common/assert.js';

const chunkRunsMax = 128;
/** Numbers per run in a chunk: first seq, length, expiry, end of delay. */
const stride = 4;
const lengthAt = 1;
const expiresAt = 2;
const visibleAt = 3;

/** Runs in seq order, `stride` numbers each. */
type Chunk = number[];

export interface SeqEntry {
  readonly seq: number;
  readonly expiresMs: number;
  readonly visibleMs: number;
}

export class SeqSet {
  private chunks: Chunk[] = [];
  private count = 0;
  private runs = 0;

  get size(): number {
    return this.count;
  }

  /** Runs held (memory: four numbers each). */
  get runCount(): number {
    return this.runs;
  }

  add(entry: SeqEntry): void {
    const { seq, expiresMs, visibleMs } = entry;
    const last = this.chunks[this.chunks.length - 1];
    const lastRun = last === undefined ? -1 : runsIn(last) - 1;
    if (last === undefined || runEnd(last, lastRun) <= seq) {
      if (last !== undefined && runEnd(last, lastRun) === seq && sameTimes(last, lastRun, expiresMs, visibleMs)) {
        last[lastRun * stride + lengthAt]! += 1;
      } else if (last === undefined) {
        // Literals: arrays of exactly their size (a push onto an empty array reserves 17 slots).
        this.chunks = [[seq, 1, expiresMs, visibleMs]];
        this.runs++;
      } else if (runsIn(last) >= chunkRunsMax) {
        this.chunks.push([seq, 1, expiresMs, visibleMs]);
        this.runs++;
      } else {
        last.push(seq, 1, expiresMs, visibleMs);
        this.runs++;
      }
      this.count++;
      return;
    }
    const chunkIndex = this.chunkFor(seq);
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined, 'SeqSet chunk lookup failed');
    // The run at or before seq in this chunk (-1: seq precedes the chunk's first run).
    const before = runAtOrBefore(chunk, seq);
    assert(before === -1 || runEnd(chunk, before) <= seq, () => `SeqSet already holds seq ${seq}`);
    const after = before + 1;
    const joinsBefore = before >= 0 && runEnd(chunk, before) === seq && sameTimes(chunk, before, expiresMs, visibleMs);
    const joinsAfter = after < runsIn(chunk) && chunk[after * stride] === seq + 1 && sameTimes(chunk, after, expiresMs, visibleMs);
    if (joinsBefore && joinsAfter) {
      chunk[before * stride + lengthAt]! += 1 + chunk[after * stride + lengthAt]!;
      chunk.splice(after * stride, stride);
      this.runs--;
    } else if (joinsBefore) {
      chunk[before * stride + lengthAt]! += 1;
    } else if (joinsAfter) {
      chunk[after * stride] = seq;
      chunk[after * stride + lengthAt]! += 1;
    } else {
      chunk.splice(after * stride, 0, seq, 1, expiresMs, visibleMs);
      this.runs++;
      if (runsIn(chunk) > chunkRunsMax) this.split(chunkIndex);
    }
    this.count++;
  }

  has(seq: number): boolean {
    return this.find(seq) !== undefined;
  }

  get(seq: number): SeqEntry | undefined {
    const found = this.find(seq);
    if (found === undefined) return undefined;
    const { chunk, run } = found;
    return { seq, expiresMs: chunk[run * stride + expiresAt] ?? 0, visibleMs: chunk[run * stride + visibleAt] ?? 0 };
  }

  remove(seq: number): boolean {
    const chunkIndex = this.chunkFor(seq);
    const chunk = this.chunks[chunkIndex];
    if (chunk === undefined) return false;
    const run = runAtOrBefore(chunk, seq);
    if (run < 0 || runEnd(chunk, run) <= seq) return false;
    const at = run * stride;
    const start = chunk[at]!;
    const length = chunk[at + lengthAt]!;
    if (length === 1) {
      chunk.splice(at, stride);
      this.runs--;
      if (chunk.length === 0) this.chunks.splice(chunkIndex, 1);
    } else if (seq === start) {
      chunk[at] = seq + 1;
      chunk[at + lengthAt] = length - 1;
    } else if (seq === start + length - 1) {
      chunk[at + lengthAt] = length - 1;
    } else {
      chunk[at + lengthAt] = seq - start;
      chunk.splice(at + stride, 0, seq + 1, start + length - seq - 1, chunk[at + expiresAt]!, chunk[at + visibleAt]!);
      this.runs++;
      if (runsIn(chunk) > chunkRunsMax) this.split(chunkIndex);
    }
    this.count--;
    return true;
  }

  /** Entries in ascending seq order with seq > afterSeq. Do not mutate while iterating. */
  *entries(afterSeq = -Infinity): Generator<SeqEntry> {
    let chunkIndex = afterSeq === -Infinity ? 0 : this.chunkFor(afterSeq);
    for (; chunkIndex < this.chunks.length; chunkIndex++) {
      const chunk = this.chunks[chunkIndex];
      if (chunk === undefined) break;
      for (let at = 0; at < chunk.length; at += stride) {
        const start = chunk[at] ?? 0;
        const end = start + (chunk[at + lengthAt] ?? 0);
        const expiresMs = chunk[at + expiresAt] ?? 0;
        const visibleMs = chunk[at + visibleAt] ?? 0;
        for (let seq = Math.max(start, Math.floor(afterSeq) + 1); seq < end; seq++) yield { seq, expiresMs, visibleMs };
      }
    }
  }

  /** Entries in descending seq order. Do not mutate while iterating. */
  *entriesReversed(): Generator<SeqEntry> {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c];
      if (chunk === undefined) continue;
      for (let at = chunk.length - stride; at >= 0; at -= stride) {
        const start = chunk[at] ?? 0;
        const expiresMs = chunk[at + expiresAt] ?? 0;
        const visibleMs = chunk[at + visibleAt] ?? 0;
        for (let seq = start + (chunk[at + lengthAt] ?? 0) - 1; seq >= start; seq--) yield { seq, expiresMs, visibleMs };
      }
    }
  }

  private find(seq: number): { chunk: Chunk; run: number } | undefined {
    const chunk = this.chunks[this.chunkFor(seq)];
    if (chunk === undefined) return undefined;
    const run = runAtOrBefore(chunk, seq);
    return run >= 0 && seq < runEnd(chunk, run) ? { chunk, run } : undefined;
  }

  /** Index of the last chunk whose first seq is <= seq (0 when seq precedes all). */
  private chunkFor(seq: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const first = this.chunks[mid]?.[0] ?? Infinity;
      if (first <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private split(chunkIndex: number): void {
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined, 'SeqSet split of a missing chunk');
    const right = chunk.splice((runsIn(chunk) >>> 1) * stride);
    this.chunks.splice(chunkIndex + 1, 0, right);
  }
}

function runsIn(chunk: Chunk): number {
  return chunk.length / stride;
}

/** One past the last seq of the chunk's run. */
function runEnd(chunk: Chunk, run: number): number {
  return (chunk[run * stride] ?? 0) + (chunk[run * stride + lengthAt] ?? 0);
}

function sameTimes(chunk: Chunk, run: number, expiresMs: number, visibleMs: number): boolean {
  return chunk[run * stride + expiresAt] === expiresMs && chunk[run * stride + visibleAt] === visibleMs;
}

/** Index of the last run starting at or before seq (-1 when seq precedes them all). */
function runAtOrBefore(chunk: Chunk, seq: number): number {
  let lo = 0;
  let hi = runsIn(chunk);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chunk[mid * stride] ?? Infinity) <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

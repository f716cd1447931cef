/**
 * A compact ordered set of a queue's messages by seq, with each message's expiry and
 * end of delay, so the claim path can skip expired and delayed messages without
 * touching storage.
 *
 * Layout: runs of consecutive seqs that share their expiry and end of delay (the messages
 * of one post do: one apply time, one ttl and delay), each four numbers (first seq,
 * length, expiry, end of delay), in a list of chunks of up to `chunkRunsMax` runs held in
 * four parallel number arrays (no per-message object). A post of 100 messages is one run:
 * ~0.3 bytes per message instead of 24 for one entry each (1,000,000 queued messages: ~35
 * MB of arrays before). Messages that share nothing cost one run each (32 bytes).
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

interface Chunk {
  /** First seq of each run. */
  starts: number[];
  lengths: number[];
  expires: number[];
  visibles: number[];
}

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
    const lastRun = last === undefined ? -1 : last.starts.length - 1;
    if (last === undefined || runEnd(last, lastRun) <= seq) {
      if (last !== undefined && runEnd(last, lastRun) === seq && sameTimes(last, lastRun, expiresMs, visibleMs)) {
        last.lengths[lastRun]! += 1;
      } else if (last === undefined || last.starts.length >= chunkRunsMax) {
        this.chunks.push({ starts: [seq], lengths: [1], expires: [expiresMs], visibles: [visibleMs] });
        this.runs++;
      } else {
        pushRun(last, seq, 1, expiresMs, visibleMs);
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
    const joinsAfter = after < chunk.starts.length && chunk.starts[after] === seq + 1 && sameTimes(chunk, after, expiresMs, visibleMs);
    if (joinsBefore && joinsAfter) {
      chunk.lengths[before]! += 1 + chunk.lengths[after]!;
      spliceRuns(chunk, after, 1);
      this.runs--;
    } else if (joinsBefore) {
      chunk.lengths[before]! += 1;
    } else if (joinsAfter) {
      chunk.starts[after] = seq;
      chunk.lengths[after]! += 1;
    } else {
      spliceRuns(chunk, after, 0, seq, 1, expiresMs, visibleMs);
      this.runs++;
      if (chunk.starts.length > chunkRunsMax) this.split(chunkIndex);
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
    return { seq, expiresMs: chunk.expires[run] ?? 0, visibleMs: chunk.visibles[run] ?? 0 };
  }

  remove(seq: number): boolean {
    const chunkIndex = this.chunkFor(seq);
    const chunk = this.chunks[chunkIndex];
    if (chunk === undefined) return false;
    const run = runAtOrBefore(chunk, seq);
    if (run < 0 || runEnd(chunk, run) <= seq) return false;
    const start = chunk.starts[run]!;
    const length = chunk.lengths[run]!;
    if (length === 1) {
      spliceRuns(chunk, run, 1);
      this.runs--;
      if (chunk.starts.length === 0) this.chunks.splice(chunkIndex, 1);
    } else if (seq === start) {
      chunk.starts[run] = seq + 1;
      chunk.lengths[run] = length - 1;
    } else if (seq === start + length - 1) {
      chunk.lengths[run] = length - 1;
    } else {
      chunk.lengths[run] = seq - start;
      spliceRuns(chunk, run + 1, 0, seq + 1, start + length - seq - 1, chunk.expires[run]!, chunk.visibles[run]!);
      this.runs++;
      if (chunk.starts.length > chunkRunsMax) this.split(chunkIndex);
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
      for (let run = 0; run < chunk.starts.length; run++) {
        const start = chunk.starts[run] ?? 0;
        const end = start + (chunk.lengths[run] ?? 0);
        const expiresMs = chunk.expires[run] ?? 0;
        const visibleMs = chunk.visibles[run] ?? 0;
        for (let seq = Math.max(start, Math.floor(afterSeq) + 1); seq < end; seq++) yield { seq, expiresMs, visibleMs };
      }
    }
  }

  /** Entries in descending seq order. Do not mutate while iterating. */
  *entriesReversed(): Generator<SeqEntry> {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c];
      if (chunk === undefined) continue;
      for (let run = chunk.starts.length - 1; run >= 0; run--) {
        const start = chunk.starts[run] ?? 0;
        const expiresMs = chunk.expires[run] ?? 0;
        const visibleMs = chunk.visibles[run] ?? 0;
        for (let seq = start + (chunk.lengths[run] ?? 0) - 1; seq >= start; seq--) yield { seq, expiresMs, visibleMs };
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
      const first = this.chunks[mid]?.starts[0] ?? Infinity;
      if (first <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private split(chunkIndex: number): void {
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined, 'SeqSet split of a missing chunk');
    const half = chunk.starts.length >>> 1;
    const right: Chunk = {
      starts: chunk.starts.splice(half),
      lengths: chunk.lengths.splice(half),
      expires: chunk.expires.splice(half),
      visibles: chunk.visibles.splice(half),
    };
    this.chunks.splice(chunkIndex + 1, 0, right);
  }
}

/** One past the last seq of the chunk's run. */
function runEnd(chunk: Chunk, run: number): number {
  return (chunk.starts[run] ?? 0) + (chunk.lengths[run] ?? 0);
}

function sameTimes(chunk: Chunk, run: number, expiresMs: number, visibleMs: number): boolean {
  return chunk.expires[run] === expiresMs && chunk.visibles[run] === visibleMs;
}

function pushRun(chunk: Chunk, start: number, length: number, expiresMs: number, visibleMs: number): void {
  chunk.starts.push(start);
  chunk.lengths.push(length);
  chunk.expires.push(expiresMs);
  chunk.visibles.push(visibleMs);
}

/** Removes `deleteCount` runs at `at`, or inserts one run there (deleteCount 0 and its fields). */
function spliceRuns(chunk: Chunk, at: number, deleteCount: number, ...run: [start: number, length: number, expiresMs: number, visibleMs: number] | []): void {
  if (run.length === 0) {
    chunk.starts.splice(at, deleteCount);
    chunk.lengths.splice(at, deleteCount);
    chunk.expires.splice(at, deleteCount);
    chunk.visibles.splice(at, deleteCount);
    return;
  }
  const [start, length, expiresMs, visibleMs] = run;
  chunk.starts.splice(at, deleteCount, start);
  chunk.lengths.splice(at, deleteCount, length);
  chunk.expires.splice(at, deleteCount, expiresMs);
  chunk.visibles.splice(at, deleteCount, visibleMs);
}

/** Index of the last run starting at or before seq (-1 when seq precedes them all). */
function runAtOrBefore(chunk: Chunk, seq: number): number {
  let lo = 0;
  let hi = chunk.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chunk.starts[mid] ?? Infinity) <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * A compact ordered set of a queue's messages by seq, with each message's expiry and
 * end of delay, so the claim path can skip expired and delayed messages without
 * touching storage.
 *
 * Layout: a list of chunks, each holding up to `chunkSizeMax` entries in three
 * parallel number arrays (about 24 bytes per message, no per-message object). Posts
 * append to the last chunk; claims take from the front; deletes, releases and expired
 * claims remove or re-insert in the middle. Each operation binary-searches the chunk
 * list and then works inside one chunk, so its cost grows with log(depth), not depth.
 *
 * Invariants: seqs strictly increase across the whole list; no chunk is empty.
 */
import { assert } from '../../common/assert.js';

const chunkSizeMax = 256;

interface Chunk {
  seqs: number[];
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

  get size(): number {
    return this.count;
  }

  add(entry: SeqEntry): void {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined || (last.seqs[last.seqs.length - 1] ?? -Infinity) < entry.seq) {
      if (last === undefined || last.seqs.length >= chunkSizeMax) {
        this.chunks.push({ seqs: [entry.seq], expires: [entry.expiresMs], visibles: [entry.visibleMs] });
      } else {
        last.seqs.push(entry.seq);
        last.expires.push(entry.expiresMs);
        last.visibles.push(entry.visibleMs);
      }
      this.count++;
      return;
    }
    const chunkIndex = this.chunkFor(entry.seq);
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined, 'SeqSet chunk lookup failed');
    const at = lowerBound(chunk.seqs, entry.seq);
    assert(chunk.seqs[at] !== entry.seq, () => `SeqSet already holds seq ${entry.seq}`);
    chunk.seqs.splice(at, 0, entry.seq);
    chunk.expires.splice(at, 0, entry.expiresMs);
    chunk.visibles.splice(at, 0, entry.visibleMs);
    this.count++;
    if (chunk.seqs.length > chunkSizeMax) this.split(chunkIndex);
  }

  has(seq: number): boolean {
    return this.find(seq) !== undefined;
  }

  get(seq: number): SeqEntry | undefined {
    const found = this.find(seq);
    if (found === undefined) return undefined;
    const { chunk, at } = found;
    return { seq, expiresMs: chunk.expires[at] ?? 0, visibleMs: chunk.visibles[at] ?? 0 };
  }

  remove(seq: number): boolean {
    const chunkIndex = this.chunkFor(seq);
    const chunk = this.chunks[chunkIndex];
    if (chunk === undefined) return false;
    const at = lowerBound(chunk.seqs, seq);
    if (chunk.seqs[at] !== seq) return false;
    chunk.seqs.splice(at, 1);
    chunk.expires.splice(at, 1);
    chunk.visibles.splice(at, 1);
    this.count--;
    if (chunk.seqs.length === 0) this.chunks.splice(chunkIndex, 1);
    return true;
  }

  /** Entries in ascending seq order with seq > afterSeq. Do not mutate while iterating. */
  *entries(afterSeq = -Infinity): Generator<SeqEntry> {
    let chunkIndex = afterSeq === -Infinity ? 0 : this.chunkFor(afterSeq);
    for (; chunkIndex < this.chunks.length; chunkIndex++) {
      const chunk = this.chunks[chunkIndex];
      if (chunk === undefined) break;
      for (let i = 0; i < chunk.seqs.length; i++) {
        const seq = chunk.seqs[i] ?? 0;
        if (seq <= afterSeq) continue;
        yield { seq, expiresMs: chunk.expires[i] ?? 0, visibleMs: chunk.visibles[i] ?? 0 };
      }
    }
  }

  /** Entries in descending seq order. Do not mutate while iterating. */
  *entriesReversed(): Generator<SeqEntry> {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c];
      if (chunk === undefined) continue;
      for (let i = chunk.seqs.length - 1; i >= 0; i--) {
        yield { seq: chunk.seqs[i] ?? 0, expiresMs: chunk.expires[i] ?? 0, visibleMs: chunk.visibles[i] ?? 0 };
      }
    }
  }

  private find(seq: number): { chunk: Chunk; at: number } | undefined {
    const chunk = this.chunks[this.chunkFor(seq)];
    if (chunk === undefined) return undefined;
    const at = lowerBound(chunk.seqs, seq);
    return chunk.seqs[at] === seq ? { chunk, at } : undefined;
  }

  /** Index of the last chunk whose first seq is <= seq (0 when seq precedes all). */
  private chunkFor(seq: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const first = this.chunks[mid]?.seqs[0] ?? Infinity;
      if (first <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private split(chunkIndex: number): void {
    const chunk = this.chunks[chunkIndex];
    assert(chunk !== undefined, 'SeqSet split of a missing chunk');
    const half = chunk.seqs.length >>> 1;
    const right: Chunk = {
      seqs: chunk.seqs.splice(half),
      expires: chunk.expires.splice(half),
      visibles: chunk.visibles.splice(half),
    };
    this.chunks.splice(chunkIndex + 1, 0, right);
  }
}

function lowerBound(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? Infinity) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Reassembles one snapshot sent in chunks. Only the snapshot currently being received is
 * kept, and only contiguous chunks are accepted, so memory is bounded by one snapshot.
 */
import { assert } from '../../common/assert.js';
import type { Snapshot, SnapshotMeta } from '../types.js';
import type { SnapshotChunk } from './messages.js';

export class SnapshotReceiver {
  private meta: SnapshotMeta | undefined;
  private parts: Uint8Array[] = [];
  private totalBytes = 0;
  received = 0;

  /** Whether `chunk` continues (or starts) the snapshot being received. */
  accepts(chunk: SnapshotChunk): boolean {
    if (chunk.offset === 0) return true;
    return this.isReceiving(chunk.meta) && chunk.offset === this.received && chunk.totalBytes === this.totalBytes;
  }

  isReceiving(meta: SnapshotMeta): boolean {
    return this.meta !== undefined && this.meta.index === meta.index && this.meta.term === meta.term;
  }

  /** Adds an accepted chunk; returns the whole snapshot once its last byte arrived. */
  add(chunk: SnapshotChunk): Snapshot | undefined {
    assert(this.accepts(chunk), 'snapshot chunk out of order');
    if (chunk.offset === 0) {
      this.meta = chunk.meta;
      this.parts = [];
      this.totalBytes = chunk.totalBytes;
      this.received = 0;
    }
    assert(this.received + chunk.data.byteLength <= this.totalBytes, 'snapshot chunk overruns the declared size');
    this.parts.push(chunk.data);
    this.received += chunk.data.byteLength;
    if (this.received < this.totalBytes) return undefined;
    const data = new Uint8Array(this.totalBytes);
    let at = 0;
    for (const part of this.parts) {
      data.set(part, at);
      at += part.byteLength;
    }
    const meta = this.meta;
    assert(meta !== undefined, 'snapshot without meta');
    this.clear();
    return { meta, data };
  }

  clear(): void {
    this.meta = undefined;
    this.parts = [];
    this.totalBytes = 0;
    this.received = 0;
  }
}

/**
 * RecentMetadata: the metadata of queues whose shard has no replica on this node, as
 * this node last read it (with the read barrier). It stands in for the local replica's
 * applied state when a post is validated without a barrier (peekQueueMetadata), so a
 * node without replicas need not read the metadata on every post. Being stale is safe:
 * the post carries the values it assumed and the shard rejects it when they changed
 * (shard/expected-metadata.ts); the proposer then reads with the barrier, which
 * refreshes the entry.
 *
 * Bounded: at most `entriesMax` queues, least recently stored dropped first (the keys are
 * client-chosen queue names).
 */
import { assert } from '../common/assert.js';
import type { QueueMetadata, QueueRef } from './records.js';

export class RecentMetadata {
  private readonly entries = new Map<string, QueueMetadata | null>();

  constructor(private readonly entriesMax: number) {
    assert(entriesMax > 0, 'recent metadata needs room for one queue');
  }

  /** The last stored metadata (null: the queue did not exist), or undefined when unknown. */
  get(ref: QueueRef): QueueMetadata | null | undefined {
    return this.entries.get(keyOf(ref));
  }

  set(ref: QueueRef, metadata: QueueMetadata | null): void {
    const key = keyOf(ref);
    this.entries.delete(key);
    this.entries.set(key, metadata);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.entriesMax) break;
      this.entries.delete(oldest);
    }
  }
}

function keyOf(ref: QueueRef): string {
  return `${ref.project}\u0000${ref.queue}`;
}

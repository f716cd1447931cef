/**
 * QueueDirectory: which queues this node knows to be placed outside their hash shard,
 * and on which shard (a cache of the hash shards' binding records, queue-placement.ts).
 * A binding never changes once written, so an entry is never stale; a name missing here
 * is tried on its hash shard, which answers `moved` when it is bound, and the answer is
 * noted. Bounded: past `entriesMax` the oldest entry is forgotten (it is learnt again the
 * same way).
 */
import { queueKeyOf } from './shard/claim-index.js';
import type { QueuePlacement } from './shard/queue-placement.js';
import type { QueueRef } from './records.js';

const defaultEntriesMax = 100_000;

export class QueueDirectory {
  private readonly placements = new Map<string, QueuePlacement>();

  constructor(private readonly entriesMax = defaultEntriesMax) {}

  of(ref: QueueRef): QueuePlacement | undefined {
    return this.placements.size === 0 ? undefined : this.placements.get(queueKeyOf(ref.project, ref.queue));
  }

  note(ref: QueueRef, placement: QueuePlacement): void {
    const key = queueKeyOf(ref.project, ref.queue);
    if (this.placements.has(key)) return;
    if (this.placements.size >= this.entriesMax) {
      const oldest = this.placements.keys().next().value;
      if (oldest !== undefined) this.placements.delete(oldest);
    }
    this.placements.set(key, placement);
  }
}

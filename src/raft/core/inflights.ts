/**
 * The bounded window of append messages a leader has in flight to one follower: the last
 * index each carried, oldest first. A full window pauses replication to that follower
 * until acknowledgements free it (flow control, so a slow peer cannot make the leader
 * buffer an unbounded number of messages).
 */
import { assert } from '../../common/assert.js';
import type { LogIndex } from '../types.js';

export class Inflights {
  private readonly lastIndices: LogIndex[] = [];

  constructor(readonly capacity: number) {
    assert(capacity > 0, 'inflight capacity must be positive');
  }

  add(lastIndex: LogIndex): void {
    assert(!this.isFull(), 'inflight window overflow');
    this.lastIndices.push(lastIndex);
  }

  /** Frees every message whose entries are all acknowledged by `index`. */
  freeLE(index: LogIndex): void {
    let freed = 0;
    while (freed < this.lastIndices.length && (this.lastIndices[freed] ?? Infinity) <= index) freed++;
    if (freed > 0) this.lastIndices.splice(0, freed);
  }

  /** Frees the oldest slot: a heartbeat answer shows the follower is alive though appends were lost. */
  freeFirstOne(): void {
    this.lastIndices.shift();
  }

  isFull(): boolean {
    return this.lastIndices.length >= this.capacity;
  }

  count(): number {
    return this.lastIndices.length;
  }

  reset(): void {
    this.lastIndices.length = 0;
  }
}

/**
 * FaultyLogStore wraps any RaftLogStore and fails or stalls its writes on demand, so
 * the error paths of the node loop and the stores (a write that never completes, a
 * write that fails before or after reaching storage) are testable without mocks.
 *
 * Reads always pass through. Failed writes reject with LogStoreError('write_failed'),
 * the same error a real store raises. Stalled writes are held in order (bounded) and
 * reach the inner store only when resumed, in the order they were made.
 */
import { assert } from '../common/assert.js';
import type { Entry, HardState, LogIndex, RaftGroupState, ShardId, Snapshot, Term } from '../raft/types.js';
import { type LogStore, LogStoreError } from './log-store.js';

/** `before`: the write never reaches the inner store. `after`: it does, but the caller sees a failure. */
export type FaultTiming = 'before' | 'after';

const stalledWritesMax = 10_000;

export class FaultyLogStore implements LogStore {
  private failuresLeft = 0;
  private failureTiming: FaultTiming = 'before';
  private isStalled = false;
  private stalled: Array<() => void> = [];

  constructor(private readonly inner: LogStore) {}

  /** The next `count` writes fail (persist, persistSnapshot and compact all count). */
  failWrites(count: number, options: { timing?: FaultTiming } = {}): void {
    this.failuresLeft = count;
    this.failureTiming = options.timing ?? 'before';
  }

  /** Holds every later write until resumeWrites(). */
  stallWrites(): void {
    this.isStalled = true;
  }

  /** Lets held writes proceed in order and stops holding new ones. */
  resumeWrites(): void {
    this.isStalled = false;
    const held = this.stalled;
    this.stalled = [];
    for (const release of held) release();
  }

  get stalledWrites(): number {
    return this.stalled.length;
  }

  load(shardId: ShardId): RaftGroupState {
    return this.inner.load(shardId);
  }
  hasGroup(shardId: ShardId): boolean {
    return this.inner.hasGroup(shardId);
  }
  storedGroups(from: ShardId): ShardId[] {
    return this.inner.storedGroups(from);
  }
  entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    return this.inner.entries(shardId, range);
  }
  term(shardId: ShardId, index: LogIndex): Term | undefined {
    return this.inner.term(shardId, index);
  }
  snapshot(shardId: ShardId): Snapshot | undefined {
    return this.inner.snapshot(shardId);
  }

  persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    return this.faulty(shardId, () => this.inner.persist(shardId, batch));
  }
  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    return this.faulty(shardId, () => this.inner.persistSnapshot(shardId, snapshot));
  }
  compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.faulty(shardId, () => this.inner.compact(shardId, index));
  }

  removeGroup(shardId: ShardId): Promise<void> {
    return this.faulty(shardId, () => this.inner.removeGroup(shardId));
  }

  private async faulty(shardId: ShardId, write: () => Promise<void>): Promise<void> {
    if (this.isStalled) {
      assert(this.stalled.length < stalledWritesMax, 'too many stalled writes: a test forgot to resume');
      await new Promise<void>((resolve) => this.stalled.push(resolve));
    }
    if (this.failuresLeft === 0) return write();
    this.failuresLeft -= 1;
    const injected = new Error('injected write failure');
    if (this.failureTiming === 'after') await write();
    throw new LogStoreError('write_failed', shardId, 'log write failed', { cause: injected });
  }
}

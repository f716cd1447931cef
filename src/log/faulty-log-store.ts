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
import type { Entry, HardState, LogIndex, ShardId, Snapshot } from '../raft/types.js';
import { type LogStore, LogStoreError } from './log-store.js';
import { LogStoreDecorator } from './log-store-decorator.js';

/** `before`: the write never reaches the inner store. `after`: it does, but the caller sees a failure. */
export type FaultTiming = 'before' | 'after';

const stalledWritesMax = 10_000;

export class FaultyLogStore extends LogStoreDecorator {
  private failuresLeft = 0;
  private failureTiming: FaultTiming = 'before';
  private isStalled = false;
  private stalled: Array<() => void> = [];

  constructor(inner: LogStore) {
    super(inner);
  }

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

  override persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    return this.faulty(shardId, () => this.inner.persist(shardId, batch));
  }
  override persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    return this.faulty(shardId, () => this.inner.persistSnapshot(shardId, snapshot));
  }
  override compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.faulty(shardId, () => this.inner.compact(shardId, index));
  }

  override removeGroup(shardId: ShardId): Promise<void> {
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

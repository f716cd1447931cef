/**
 * LogStoreDecorator: a LogStore that passes every call to the store it wraps. The stores
 * that add something to another (measurement, recent entries held in memory, injected
 * faults) extend it and override only what they change.
 */
import type { Entry, HardState, LogIndex, RaftGroupState, ShardId, Snapshot, Term } from '../raft/types.js';
import type { LogStore } from './log-store.js';

export class LogStoreDecorator implements LogStore {
  constructor(protected readonly inner: LogStore) {}

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
    return this.inner.persist(shardId, batch);
  }

  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    return this.inner.persistSnapshot(shardId, snapshot);
  }

  compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.inner.compact(shardId, index);
  }

  removeGroup(shardId: ShardId): Promise<void> {
    return this.inner.removeGroup(shardId);
  }
}

/**
 * Runs the RaftLogStore contract against MemoryLogStore (auto-flushing, as the node loop
 * sees it outside the simulator). Reopen is a crash that keeps every flushed write;
 * damage uses the store's own fault hooks (bit flip, log cut at an index).
 */
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import type { LogIndex, ShardId } from '../../src/raft/types.js';
import { logStoreContract, type DamageKind, type LogStoreHarness } from './log-store.contract.js';

class MemoryHarness implements LogStoreHarness {
  readonly store = new MemoryLogStore({ isAutoFlush: true });

  async reopen(): Promise<MemoryLogStore> {
    this.store.crash();
    return this.store;
  }

  async damageEntry(shardId: ShardId, index: LogIndex, kind: DamageKind): Promise<void> {
    const isDamaged = kind === 'flip' ? this.store.corruptEntry(shardId, index) : this.store.truncateEntries(shardId, index);
    if (!isDamaged) throw new Error(`no entry ${index} to damage`);
  }

  async damageSnapshot(shardId: ShardId): Promise<void> {
    if (!this.store.corruptSnapshot(shardId)) throw new Error('no snapshot to damage');
  }

  async close(): Promise<void> {}
}

logStoreContract('MemoryLogStore', async () => new MemoryHarness(), { isPersistent: true, canDamage: true });

/**
 * QueueFsm unit behaviour on the memory store: gc reclaims expired messages (bounded
 * per command, never live or claimed ones), apply takes time only from commands and
 * never lets it run backwards, and entries must arrive in index order.
 */
import { describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { encodeBody } from './body-codec.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { QueueFsm } from './queue-fsm.js';

const shard = 1 as ShardId;
const key = { shardId: shard, project: 'p', queue: 'q' };

function driver(): { fsm: QueueFsm; apply(command: ShardCommand): unknown } {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  return {
    fsm,
    apply: (command) => fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0],
  };
}

function postCommand(nowMs: number, ttls: readonly number[], firstId = 0): ShardCommand {
  const messages = ttls.map((ttlSeconds, i) => ({ id: String(firstId + i).padStart(24, '0'), body: encodeBody(i), ttlSeconds, delaySeconds: 0, checksum: null }));
  return { type: 'post', nowMs, project: 'p', queue: 'q', clientId: 'c', messages };
}

describe('QueueFsm', () => {
  test('gc removes expired messages, at most removalsMax per command, and keeps the rest', () => {
    const { fsm, apply } = driver();
    apply(postCommand(0, [60, 60, 60, 600]));
    apply({ type: 'claim', nowMs: 0, project: 'p', queue: 'q', claimId: 'c1', limit: 1, ttlSeconds: 100, graceSeconds: 60 });
    expect(apply({ type: 'gc', nowMs: 59_999, removalsMax: 10 })).toEqual({ removed: 0 });
    expect(apply({ type: 'gc', nowMs: 60_000, removalsMax: 1 })).toEqual({ removed: 1 });
    expect(apply({ type: 'gc', nowMs: 60_000, removalsMax: 10 })).toEqual({ removed: 1 });
    // The claimed message lives until claim expiry + grace (160 s).
    expect([...fsm.store.messages(key, 0)].map((m) => m.seq)).toEqual([1, 4]);
    expect(apply({ type: 'gc', nowMs: 160_000, removalsMax: 10 })).toEqual({ removed: 1 });
    expect([...fsm.store.messages(key, 0)].map((m) => m.seq)).toEqual([4]);
    expect(fsm.store.seqOfId(key, '0'.padStart(24, '0'))).toBeUndefined();
  });

  test('apply never lets command time run backwards', () => {
    const { fsm, apply } = driver();
    apply(postCommand(0, [600]));
    apply({ type: 'claim', nowMs: 0, project: 'p', queue: 'q', claimId: 'c1', limit: 1, ttlSeconds: 60, graceSeconds: 60 });
    apply({ type: 'gc', nowMs: 61_000, removalsMax: 10 });
    // A proposer with a slow clock cannot revive the lapsed claim.
    expect(apply({ type: 'renew', nowMs: 30_000, project: 'p', queue: 'q', claimId: 'c1', ttlSeconds: 60, graceSeconds: 60 })).toEqual({ renewed: false });
    expect(fsm.lastNowMs).toBe(61_000);
    expect(fsm.appliedIndex).toBe(4);
  });

  test('apply rejects an entry out of index order', () => {
    const { fsm } = driver();
    expect(() => fsm.apply([{ index: 2 as LogIndex, data: encodeCommand({ type: 'gc', nowMs: 0, removalsMax: 1 }) }])).toThrow(/applies 2 after 0/);
  });

  test('a no-op entry only advances the applied index', () => {
    const { fsm } = driver();
    expect(fsm.apply([{ index: 1 as LogIndex, data: new Uint8Array() }])).toEqual([undefined]);
    expect(fsm.store.getShardMeta(shard)?.appliedIndex).toBe(1);
  });
});

/**
 * The `subscription` command applied by QueueFsm on the memory store: duplicate rules,
 * the subscription bound, update conflicts, expiry (dropped by any later op and invisible
 * from then on), cursors that start at the queue's last seq and only move forward, purge,
 * and that a replayed log yields the same subscriptions (determinism).
 */
import { describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { encodeBody } from './body-codec.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { QueueFsm } from './queue-fsm.js';
import type { SubscriptionOp, SubscriptionResult } from './subscription-writes.js';

const shard = 1 as ShardId;
const key = { shardId: shard, project: 'p', queue: 'q' };

function driver(): { fsm: QueueFsm; log: ShardCommand[]; run(nowMs: number, op: SubscriptionOp): SubscriptionResult; post(nowMs: number, count: number): void } {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  const log: ShardCommand[] = [];
  const apply = (command: ShardCommand): unknown => {
    log.push(command);
    return fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0];
  };
  return {
    fsm,
    log,
    run: (nowMs, op) => apply({ type: 'subscription', nowMs, project: 'p', queue: 'q', op }) as SubscriptionResult,
    post: (nowMs, count) => {
      const messages = Array.from({ length: count }, (_, i) => ({ id: `${nowMs}-${i}`, body: encodeBody(i), ttlSeconds: 600, delaySeconds: 0, checksum: null }));
      apply({ type: 'post', nowMs, project: 'p', queue: 'q', clientId: 'c', messages });
    },
  };
}

function create(id: string, subscriber: string, extra: Partial<{ ttlSeconds: number; subscriptionsMax: number }> = {}): SubscriptionOp {
  return { op: 'create', id, subscriber, options: {}, ttlSeconds: extra.ttlSeconds ?? 600, subscriptionsMax: extra.subscriptionsMax ?? 10 };
}

describe('subscription command', () => {
  test('create makes the queue, repeats answer the existing id, confirmed repeats conflict, the bound holds', () => {
    const { fsm, run } = driver();
    expect(run(0, create('s1', 'http://a'))).toEqual({ outcome: 'created', id: 's1', removed: 0 });
    expect(fsm.store.getQueue(key)?.metadata).toEqual({});
    expect(run(1, create('s2', 'http://a'))).toMatchObject({ outcome: 'existing', id: 's1' });
    expect(run(2, { op: 'confirm', id: 's1', confirmed: true })).toMatchObject({ outcome: 'updated' });
    expect(run(3, create('s3', 'http://a'))).toMatchObject({ outcome: 'conflict', id: 's1' });
    expect(run(4, create('s4', 'http://b', { subscriptionsMax: 1 }))).toMatchObject({ outcome: 'full' });
    expect(fsm.store.getQueue(key)?.subscriptions?.map((s) => s.id)).toEqual(['s1']);
  });

  test('update: new ttl restarts expiry, a taken subscriber conflicts, an unknown id is missing', () => {
    const { fsm, run } = driver();
    run(0, create('s1', 'http://a'));
    run(0, create('s2', 'http://b'));
    expect(run(100_000, { op: 'update', id: 's1', subscriber: null, options: { k: 1 }, ttlSeconds: 60 })).toMatchObject({ outcome: 'updated' });
    expect(fsm.store.getQueue(key)?.subscriptions?.[0]).toMatchObject({ options: { k: 1 }, ttlSeconds: 60, expiresMs: 160_000, createdMs: 0 });
    expect(run(100_000, { op: 'update', id: 's1', subscriber: 'http://b', options: null, ttlSeconds: null })).toMatchObject({ outcome: 'conflict' });
    expect(run(100_000, { op: 'update', id: 'nope', subscriber: null, options: null, ttlSeconds: 60 })).toMatchObject({ outcome: 'missing' });
  });

  test('an expired subscription is dropped by the next op on its queue and cannot be found or conflict', () => {
    const { fsm, run } = driver();
    run(0, create('s1', 'http://a', { ttlSeconds: 60 }));
    expect(run(2, { op: 'confirm', id: 's1', confirmed: true })).toMatchObject({ outcome: 'updated' });
    expect(run(60_000, { op: 'expire' })).toEqual({ outcome: 'done', id: null, removed: 1 });
    expect(fsm.store.getQueue(key)?.subscriptions).toBeUndefined();
    expect(run(60_001, { op: 'delete', id: 's1' })).toMatchObject({ outcome: 'missing' });
    expect(run(60_002, create('s2', 'http://a'))).toMatchObject({ outcome: 'created', id: 's2' });
  });

  test('the cursor starts at the last posted seq, only moves forward, jumps to the last seq on confirmation; purge removes all', () => {
    const { fsm, run, post } = driver();
    post(0, 3);
    run(1, create('s1', 'http://a'));
    const cursor = (): number | undefined => fsm.store.getQueue(key)?.subscriptions?.[0]?.notifiedSeq;
    expect(cursor()).toBe(3);
    post(2, 2);
    run(3, { op: 'progress', id: 's1', notifiedSeq: 5 });
    run(4, { op: 'progress', id: 's1', notifiedSeq: 4 });
    expect(cursor()).toBe(5);
    expect(fsm.store.getQueue(key)?.nextSeq).toBe(6);
    post(5, 2);
    run(6, { op: 'confirm', id: 's1', confirmed: true });
    expect(cursor()).toBe(7);
    expect(run(7, { op: 'purge' })).toMatchObject({ outcome: 'done', removed: 1 });
    expect(cursor()).toBeUndefined();
  });

  test('confirmation notices: owed on create and on a repeated create, cleared only by the matching noticeSent', () => {
    const { fsm, run } = driver();
    const notice = (): unknown => fsm.store.getQueue(key)?.subscriptions?.[0]?.pendingNotice;
    run(10, create('s1', 'http://a'));
    expect(notice()).toEqual({ kind: 'subscribe', requestedMs: 10 });
    run(20, create('s2', 'http://a'));
    run(21, { op: 'noticeSent', id: 's1', requestedMs: 10 });
    expect(notice()).toEqual({ kind: 'subscribe', requestedMs: 20 });
    run(22, { op: 'noticeSent', id: 's1', requestedMs: 20 });
    expect(notice()).toBeUndefined();
    run(30, { op: 'confirm', id: 's1', confirmed: false });
    expect(notice()).toEqual({ kind: 'unsubscribe', requestedMs: 30 });
  });

  test('replaying the same commands on another replica gives the same subscriptions', () => {
    const first = driver();
    first.post(0, 2);
    first.run(1, create('s1', 'http://a'));
    first.run(2, create('s2', 'mailto:x@y'));
    first.run(3, { op: 'progress', id: 's2', notifiedSeq: 2 });
    first.run(4, { op: 'delete', id: 's1' });
    const replica = new QueueFsm(shard, new MemoryQueueStore());
    replica.apply(first.log.map((command, i) => ({ index: (i + 1) as LogIndex, data: encodeCommand(command) })));
    expect(replica.store.getQueue(key)).toEqual(first.fsm.store.getQueue(key));
  });
});

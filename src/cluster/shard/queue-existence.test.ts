/**
 * Deleting a queue keeps its subscriptions (F029), applied by QueueFsm on the memory
 * store and read back through ShardReader and the subscription reads: the deleted queue
 * is no queue for metadata, listing and counts, its subscriptions stay readable and
 * changeable, the record goes once it holds no subscription, creating the queue again
 * (PUT, post, subscription POST) brings it back with fresh metadata and cursors that
 * still point before its new messages, and a snapshot carries the deleted state.
 */
import { describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { encodeBody } from './body-codec.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { QueueFsm } from './queue-fsm.js';
import { ShardReader } from './shard-reads.js';
import { liveSubscriptions } from './subscription-reads.js';
import type { SubscriptionOp } from './subscription-writes.js';

const shard = 1 as ShardId;
const ref = { project: 'p', queue: 'q' };
const key = { shardId: shard, ...ref };
type Body<T extends ShardCommand['type']> = Omit<Extract<ShardCommand, { type: T }>, 'type' | 'nowMs' | 'project' | 'queue'>;

function driver(): {
  fsm: QueueFsm;
  reader: ShardReader;
  apply(nowMs: number, command: { type: ShardCommand['type'] } & Record<string, unknown>): unknown;
  subscribe(nowMs: number, op: SubscriptionOp): unknown;
  post(nowMs: number, count: number): void;
} {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  const apply = (nowMs: number, command: { type: ShardCommand['type'] } & Record<string, unknown>): unknown => {
    const full = { nowMs, ...ref, ...command } as unknown as ShardCommand;
    return fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(full) }])[0];
  };
  return {
    fsm,
    reader: new ShardReader(fsm),
    apply,
    subscribe: (nowMs, op) => apply(nowMs, { type: 'subscription', op }),
    post: (nowMs, count) => {
      const messages: Body<'post'>['messages'] = Array.from({ length: count }, (_, i) => ({
        id: `${nowMs}-${i}`, body: encodeBody(i), ttlSeconds: 600, delaySeconds: 0, checksum: null,
      }));
      apply(nowMs, { type: 'post', clientId: 'c', messages });
    },
  };
}

function create(id: string, subscriber: string, ttlSeconds = 600): SubscriptionOp {
  return { op: 'create', id, subscriber, options: {}, ttlSeconds, subscriptionsMax: 10 };
}

const listing = { limit: 10, detailed: true };

describe('deleting a queue that has subscriptions', () => {
  test('removes messages and metadata, hides the queue, keeps the subscriptions readable and changeable', async () => {
    const { fsm, reader, apply, subscribe, post } = driver();
    apply(0, { type: 'createQueue', metadata: { color: 'red' } });
    subscribe(1, create('s1', 'http://a'));
    subscribe(1, create('s2', 'http://b'));
    post(2, 3);
    expect(apply(3, { type: 'deleteQueue' })).toEqual({ removed: 3 });

    expect(reader.getMetadata('p', 'q')).toBeNull();
    expect(await reader.listQueues('p', listing)).toEqual({ queues: [], count: 0 });
    expect(reader.stats('p', 'q', 4)).toEqual({ claimed: 0, free: 0, total: 0 });
    expect(await reader.listMessages('p', 'q', { clientId: 'x', limit: 10, echo: true, includeClaimed: true, includeDelayed: true, nowMs: 4 })).toEqual([]);
    expect(liveSubscriptions(fsm, ref, 4).map((s) => s.id)).toEqual(['s1', 's2']);
    expect(apply(4, { type: 'setMetadata', metadata: { color: 'blue' } })).toEqual({ found: false });

    expect(subscribe(5, { op: 'update', id: 's1', subscriber: null, options: { k: 1 }, ttlSeconds: null })).toMatchObject({ outcome: 'updated' });
    expect(subscribe(5, { op: 'confirm', id: 's2', confirmed: true })).toMatchObject({ outcome: 'updated' });
    expect(liveSubscriptions(fsm, ref, 6)).toMatchObject([{ id: 's1', options: { k: 1 } }, { id: 's2', confirmed: true }]);
    expect(reader.getMetadata('p', 'q')).toBeNull();
  });

  test('the deleted record goes with its last subscription (delete, purge or expiry); a queue without any goes at once', () => {
    const { fsm, apply, subscribe } = driver();
    apply(0, { type: 'createQueue', metadata: {} });
    apply(1, { type: 'deleteQueue' });
    expect(fsm.store.getQueue(key)).toBeUndefined();

    subscribe(2, create('s1', 'http://a'));
    apply(3, { type: 'deleteQueue' });
    expect(subscribe(4, { op: 'delete', id: 's1' })).toMatchObject({ outcome: 'done' });
    expect(fsm.store.getQueue(key)).toBeUndefined();

    subscribe(5, create('s2', 'http://a'));
    apply(6, { type: 'deleteQueue' });
    subscribe(7, { op: 'purge' });
    expect(fsm.store.getQueue(key)).toBeUndefined();

    subscribe(8, create('s3', 'http://a', 60));
    apply(9, { type: 'deleteQueue' });
    expect(fsm.store.getQueue(key)?.isDeleted).toBe(true);
    expect(subscribe(60_008, { op: 'expire' })).toMatchObject({ removed: 1 });
    expect(fsm.store.getQueue(key)).toBeUndefined();
  });

  test('subscriptions already expired when the queue is deleted are not kept', () => {
    const { fsm, apply, subscribe } = driver();
    subscribe(0, create('s1', 'http://a', 60));
    apply(60_000, { type: 'deleteQueue' });
    expect(fsm.store.getQueue(key)).toBeUndefined();
  });

  test('posting re-creates the queue with fresh metadata; the kept cursors are behind the new messages', async () => {
    const { fsm, reader, apply, subscribe, post } = driver();
    apply(0, { type: 'createQueue', metadata: { color: 'red' } });
    post(1, 2);
    subscribe(2, create('s1', 'http://a'));
    apply(3, { type: 'deleteQueue' });
    post(4, 2);
    expect(reader.getMetadata('p', 'q')).toEqual({});
    expect(await reader.listQueues('p', listing)).toEqual({ queues: [{ name: 'q', metadata: {} }], count: 1 });
    const queue = fsm.store.getQueue(key);
    expect(queue?.isDeleted).toBeUndefined();
    expect(queue?.subscriptions?.[0]?.notifiedSeq).toBe(2);
    expect(queue?.nextSeq).toBe(5);
    expect(reader.stats('p', 'q', 5)).toMatchObject({ free: 2, total: 2 });
  });

  test('PUT and a subscription POST re-create it too; PUT answers created', () => {
    const { fsm, reader, apply, subscribe } = driver();
    subscribe(0, create('s1', 'http://a'));
    apply(1, { type: 'deleteQueue' });
    expect(apply(2, { type: 'createQueue', metadata: { color: 'green' } })).toEqual({ created: true });
    expect(reader.getMetadata('p', 'q')).toEqual({ color: 'green' });
    expect(fsm.store.getQueue(key)?.subscriptions?.map((s) => s.id)).toEqual(['s1']);

    apply(3, { type: 'deleteQueue' });
    expect(subscribe(4, create('s2', 'http://b'))).toMatchObject({ outcome: 'created' });
    expect(reader.getMetadata('p', 'q')).toEqual({});
    expect(fsm.store.getQueue(key)?.subscriptions?.map((s) => s.id)).toEqual(['s1', 's2']);
  });

  test('a snapshot carries the deleted state to another replica', async () => {
    const { fsm, apply, subscribe, post } = driver();
    subscribe(0, create('s1', 'http://a'));
    post(1, 1);
    apply(2, { type: 'deleteQueue' });
    await fsm.awaitCommitted();
    const replica = new QueueFsm(shard, new MemoryQueueStore());
    replica.restore(fsm.snapshot().data);
    expect(replica.store.getQueue(key)).toEqual(fsm.store.getQueue(key));
    expect(new ShardReader(replica).getMetadata('p', 'q')).toBeNull();
    expect(liveSubscriptions(replica, ref, 3).map((s) => s.id)).toEqual(['s1']);
  });
});

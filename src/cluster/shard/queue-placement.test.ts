/**
 * Bindings of names to shards outside their hash shard (queue-placement.ts), on a
 * QueueFsm over the memory store: `place` binds a name that is not a queue and answers
 * the binding in force afterwards; a name that is already a queue stays; every queue
 * command and query of a bound name is answered `moved` and changes nothing; bindings
 * survive a restart (rebuilt from the store) and travel in snapshots; a binding is not
 * a queue of the client's project.
 */
import { describe, expect, test } from 'vitest';
import type { LogIndex, NodeId, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { QueueFsm } from './queue-fsm.js';
import { answerShardQuery } from './shard-query.js';

const shard = 2 as ShardId;
const placed = { shardId: 1_000_000 as ShardId, replicas: [3, 4] as NodeId[] };

function apply(fsm: QueueFsm, command: ShardCommand): unknown {
  return fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0];
}

function place(queue: string, shardId = placed.shardId): ShardCommand {
  return { type: 'place', nowMs: 1, project: 'p', queue, shardId, replicas: placed.replicas };
}

describe('queue placement in the hash shard', () => {
  test('place binds a new name once; queue commands and queries of it answer moved and change nothing', async () => {
    const fsm = new QueueFsm(shard, new MemoryQueueStore());
    expect(apply(fsm, place('q'))).toEqual({ placed });
    expect(apply(fsm, place('q', 1_000_001 as ShardId))).toEqual({ placed });
    expect(apply(fsm, { type: 'createQueue', nowMs: 2, project: 'p', queue: 'q', metadata: {} })).toEqual({ moved: placed });
    expect(apply(fsm, { type: 'post', nowMs: 2, project: 'p', queue: 'q', clientId: 'c', messages: [] })).toEqual({ moved: placed });
    expect(await answerShardQuery(fsm, { kind: 'metadata', ref: { project: 'p', queue: 'q' } })).toEqual({ moved: placed });
    expect(fsm.store.getQueue({ shardId: shard, project: 'p', queue: 'q' })).toBeUndefined();
    await fsm.awaitCommitted();
    const listed = await answerShardQuery(fsm, { kind: 'listQueues', project: 'p', listing: { limit: 10, detailed: false } });
    expect(listed.queues).toEqual([]);
    // Other names of the shard are untouched.
    expect(apply(fsm, { type: 'createQueue', nowMs: 3, project: 'p', queue: 'other', metadata: {} })).toEqual({ created: true });
  });

  test('a name that is already a queue here is not bound', () => {
    const fsm = new QueueFsm(shard, new MemoryQueueStore());
    apply(fsm, { type: 'createQueue', nowMs: 1, project: 'p', queue: 'q', metadata: {} });
    expect(apply(fsm, place('q'))).toEqual({ placed: null });
    expect(apply(fsm, { type: 'createQueue', nowMs: 2, project: 'p', queue: 'q', metadata: {} })).toEqual({ created: false });
  });

  test('bindings are rebuilt from the store and carried by snapshots', async () => {
    const store = new MemoryQueueStore();
    const fsm = new QueueFsm(shard, store);
    apply(fsm, place('q'));
    await fsm.awaitCommitted();
    const reopened = new QueueFsm(shard, store);
    expect(reopened.placementOf('p', 'q')).toEqual(placed);
    const image = fsm.snapshot();
    const replica = new QueueFsm(shard, new MemoryQueueStore());
    expect(replica.placementOf('p', 'q')).toBeUndefined();
    replica.restore(image.data);
    expect(replica.placementOf('p', 'q')).toEqual(placed);
  });
});

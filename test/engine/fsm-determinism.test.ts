/**
 * Determinism of the shard state machine: one random command sequence (posts, claims
 * with dead-lettering, renewals, releases, deletes, pops, purges, gc, queue deletes;
 * clocks that sometimes step back) applied to two fresh QueueFsms, one on LMDB and one
 * on the memory store, must leave identical stored state and claim indexes; and a third
 * FSM rebuilt from the flushed LMDB state must hold the same index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { SeededRandom } from '../../src/common/random.js';
import type { LogIndex, ShardId } from '../../src/common/ids.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand, type ShardCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../src/log/memory/memory-queue-store.js';

const shard = 2 as ShardId;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function randomCommands(seed: number, count: number): ShardCommand[] {
  const random = new SeededRandom(seed);
  const queues = ['a', 'b', 'dlq'];
  const commands: ShardCommand[] = [];
  const claimIds: string[] = [];
  let nowMs = 1_000_000;
  let idCounter = 0;
  const pick = <T>(items: readonly T[]): T => {
    const item = items[random.int(items.length)];
    if (item === undefined) throw new Error('empty pick');
    return item;
  };
  commands.push({ type: 'createQueue', nowMs, project: 'p', queue: 'a', metadata: { _max_claim_count: 2, _dead_letter_queue: 'dlq', _dead_letter_queue_messages_ttl: 120 } });
  for (let i = 0; i < count; i++) {
    nowMs += random.int(20_000) - 2_000;
    const base = { nowMs, project: random.int(5) === 0 ? 'other' : 'p', queue: pick(queues) };
    const roll = random.int(100);
    if (roll < 35) {
      const messages = Array.from({ length: 1 + random.int(4) }, () => ({
        id: (idCounter++).toString(16).padStart(24, '0'),
        body: encodeBody({ n: idCounter, text: 'x'.repeat(random.int(40)) }),
        ttlSeconds: 60 + random.int(600),
        delaySeconds: random.int(4) === 0 ? random.int(60) : 0,
        checksum: null,
      }));
      commands.push({ ...base, type: 'post', clientId: pick(['c1', 'c2']), messages });
    } else if (roll < 55) {
      const claimId = `claim${i}`;
      claimIds.push(claimId);
      commands.push({ ...base, type: 'claim', claimId, limit: 1 + random.int(5), ttlSeconds: 60 + random.int(120), graceSeconds: 60 });
    } else if (roll < 62 && claimIds.length > 0) {
      commands.push({ ...base, type: 'renew', claimId: pick(claimIds), ttlSeconds: 60 + random.int(120), graceSeconds: 30 });
    } else if (roll < 68 && claimIds.length > 0) {
      commands.push({ ...base, type: 'release', claimId: pick(claimIds) });
    } else if (roll < 78) {
      const id = random.int(idCounter + 1).toString(16).padStart(24, '0');
      commands.push({ ...base, type: 'deleteMessage', id, claimId: random.int(2) === 0 ? null : (claimIds[claimIds.length - 1] ?? null) });
    } else if (roll < 83) {
      const ids = [0, 1, 2].map(() => random.int(idCounter + 1).toString(16).padStart(24, '0'));
      commands.push({ ...base, type: 'deleteMessages', ids, claimIds: null });
    } else if (roll < 88) {
      commands.push({ ...base, type: 'pop', limit: 1 + random.int(3) });
    } else if (roll < 92) {
      commands.push({ type: 'gc', nowMs, removalsMax: 1 + random.int(10) });
    } else if (roll < 94) {
      commands.push({ ...base, type: 'purge' });
    } else if (roll < 95) {
      commands.push({ ...base, type: 'deleteQueue' });
    } else if (roll < 97) {
      commands.push({ type: 'outboxAck', nowMs, outboxSeq: 1 + random.int(5) });
    } else {
      commands.push({ ...base, type: 'setMetadata', metadata: { _max_claim_count: 1, _dead_letter_queue: 'dlq' } });
    }
  }
  return commands;
}

function dumpState(fsm: QueueFsm): unknown {
  const store = fsm.store;
  const queues = [...store.allQueues(shard)]
    .sort((x, y) => `${x.project}/${x.name}`.localeCompare(`${y.project}/${y.name}`))
    .map(({ project, name, queue }) => {
      const key = { shardId: shard, project, queue: name };
      const messages = [...store.messages(key, 0)].map((m) => ({ ...m, body: [...(store.getBody(key, m.seq) ?? [])] }));
      const free = [...(fsm.index.free(`${project}\u0000${name}`)?.entries() ?? [])];
      const claims = [...fsm.index.claims(`${project}\u0000${name}`).values()]
        .map((c) => ({ id: c.id, expiresMs: c.expiresMs, updatedMs: c.updatedMs, ttlSeconds: c.ttlSeconds, messages: c.messages }))
        .sort((x, y) => x.id.localeCompare(y.id));
      return { project, name, queue, messages, free, claims };
    });
  const outbox = [...store.outbox(shard)].map((o) => ({ seq: o.seq, data: [...o.data] }));
  return { queues, outbox, meta: store.getShardMeta(shard) };
}

test('QueueFsm on LMDB and on memory reach identical state from the same commands', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-fsm-'));
  dirs.push(dir);
  const env = openLmdbEnv(dir);
  const lmdbFsm = new QueueFsm(shard, new LmdbQueueStore(env));
  const memoryFsm = new QueueFsm(shard, new MemoryQueueStore());
  const commands = randomCommands(42, 600);
  let index = 0;
  let checkpointsWithClaims = 0;
  // Apply in uneven batches, as group commit would, comparing at checkpoints.
  for (let at = 0; at < commands.length; ) {
    const batch = commands.slice(at, at + 1 + (at % 7)).map((command) => ({ index: ++index as LogIndex, data: encodeCommand(command) }));
    at += batch.length;
    expect(lmdbFsm.apply(batch)).toEqual(memoryFsm.apply(batch));
    if (at % 50 < batch.length) {
      await lmdbFsm.store.committed();
      const state = dumpState(lmdbFsm);
      expect(state).toEqual(dumpState(memoryFsm));
      if (JSON.stringify(state).includes('"claims":[{')) checkpointsWithClaims++;
    }
  }
  expect(checkpointsWithClaims).toBeGreaterThan(0);
  await lmdbFsm.store.flushed();
  const lmdbState = dumpState(lmdbFsm);
  expect(lmdbState).toEqual(dumpState(memoryFsm));
  expect(lmdbFsm.store.getShardMeta(shard)?.nextOutboxSeq).toBeGreaterThan(1);

  const rebuilt = new QueueFsm(shard, new LmdbQueueStore(env));
  expect(rebuilt.appliedIndex).toBe(commands.length);
  expect(dumpState(rebuilt)).toEqual(lmdbState);
  await env.close();
});

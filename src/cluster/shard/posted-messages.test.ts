/**
 * A post whose messages carry their queue-store entries (commands.ts `PostedEntry`)
 * applies exactly as the same post carrying bodies, the form of every entry written
 * before it: same records, bodies and id lookups, on the memory store and on LMDB, also
 * on a replica whose time ran ahead of the post's. Without the capability the proposer
 * keeps the earlier form, which older replicas apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { openLmdbEnv, type LmdbEnv } from '../../log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../log/lmdb/lmdb-queue-store.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import type { QueueStore } from '../../log/queue-store.js';
import { decodeBody } from './body-codec.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { postedMessages, type PostOptions } from './posted-messages.js';
import { QueueFsm } from './queue-fsm.js';

const shard = 1 as ShardId;
const key = { shardId: shard, project: 'p', queue: 'q' };
const newMessages = [
  { body: { event: 'a', n: [1, 2.5, null] }, ttlSeconds: 300, delaySeconds: 0 },
  { body: 'ü'.repeat(100), ttlSeconds: 60, delaySeconds: 30 },
  { body: null, ttlSeconds: 1_209_600, delaySeconds: 0 },
];
const envs: Array<{ env: LmdbEnv; dir: string }> = [];
afterEach(async () => {
  for (const { env, dir } of envs.splice(0)) {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function stores(): Array<[string, () => QueueStore]> {
  return [
    ['memory', () => new MemoryQueueStore()],
    ['lmdb', () => {
      const dir = mkdtempSync(join(tmpdir(), 'zaqar-posted-'));
      const env = openLmdbEnv(dir);
      envs.push({ env, dir });
      return new LmdbQueueStore(env);
    }],
  ];
}

/** Applies a post built with `options` after a gc at `fsmNowMs`; returns what a reader sees, ids apart. */
function applied(store: QueueStore, options: PostOptions, fsmNowMs: number): unknown[] {
  const fsm = new QueueFsm(shard, store);
  const command: ShardCommand = { type: 'post', nowMs: options.nowMs, project: 'p', queue: 'q', clientId: options.clientId, messages: postedMessages(newMessages, options) };
  fsm.apply([
    { index: 1 as LogIndex, data: encodeCommand({ type: 'gc', nowMs: fsmNowMs, removalsMax: 1 }) },
    { index: 2 as LogIndex, data: encodeCommand(command) },
  ]);
  return command.messages.map((posted, i) => {
    const seq = store.seqOfId(key, posted.id);
    expect(seq).toBe(i + 1);
    const { id, ...record } = store.getMessage(key, i + 1) ?? { id: undefined };
    expect(id).toBe(posted.id);
    return { ...record, body: decodeBody(store.getBody(key, i + 1) ?? new Uint8Array()) };
  });
}

test('a post carrying entries applies as the same post carrying bodies', () => {
  for (const [name, open] of stores()) {
    for (const fsmNowMs of [0, 1_763_800_001_000]) {
      for (const clientId of ['3381AF92-2B9E-11E3-B191-71861300734C', 'not-a-uuid']) {
        const options = { nowMs: 1_763_800_000_123, clientId, enableChecksum: true };
        const asBodies = applied(open(), { ...options, asEntries: false }, fsmNowMs);
        const asEntries = applied(open(), { ...options, asEntries: true }, fsmNowMs);
        expect(asEntries, `${name}, replica time ${fsmNowMs}, Client-ID ${clientId}`).toEqual(asBodies);
        expect(asEntries[1]).toMatchObject({ createdMs: Math.max(fsmNowMs, options.nowMs), ttlSeconds: 60, body: 'ü'.repeat(100) });
      }
    }
  }
});

test('without the capability a post carries bodies, the form older replicas apply', () => {
  const options = { nowMs: 5, clientId: 'c', enableChecksum: false };
  for (const message of postedMessages(newMessages, { ...options, asEntries: false })) {
    expect(Object.keys(message).sort()).toEqual(['body', 'checksum', 'delaySeconds', 'id', 'ttlSeconds']);
  }
  for (const message of postedMessages(newMessages, { ...options, asEntries: true })) {
    expect(Object.keys(message).sort()).toEqual(['delaySeconds', 'entry', 'id', 'ttlSeconds']);
  }
});

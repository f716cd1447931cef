/**
 * A post whose messages carry their queue-store entries (commands.ts `PostedEntry`)
 * applies exactly as the same post carrying bodies, the form of every entry written
 * before it: same records, bodies and id lookups, on the memory store and on LMDB, also
 * on a replica whose time ran ahead of the post's; so does a post whose entries travel
 * packed (commands.ts `PackedPost`). Without the capability the proposer keeps the
 * earlier form, which older replicas apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { derivedSeqLimit, type LogIndex, type ShardId } from '../../common/ids.js';
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

type Form = Pick<PostOptions, 'asEntries' | 'derivesIds' | 'packsEntries'>;
const forms: Record<string, Form> = {
  bodies: { asEntries: false, derivesIds: false },
  entries: { asEntries: true, derivesIds: false },
  derived: { asEntries: true, derivesIds: true },
  packed: { asEntries: true, derivesIds: true, packsEntries: true },
};

/**
 * Applies a post built with `options` after a gc at `fsmNowMs`, as the proposer does (the
 * command it encoded) or as any other replica (decoded from a copy of its bytes); returns
 * what a reader sees, ids apart.
 */
function applied(store: QueueStore, options: PostOptions, fsmNowMs: number, isDecoded: boolean): unknown[] {
  const fsm = new QueueFsm(shard, store);
  const post = postedMessages(newMessages, options);
  const command: ShardCommand = { type: 'post', nowMs: options.nowMs, project: 'p', queue: 'q', clientId: options.clientId, ...post.carried };
  const data = encodeCommand(command);
  const [, result] = fsm.apply([
    { index: 1 as LogIndex, data: encodeCommand({ type: 'gc', nowMs: fsmNowMs, removalsMax: 1 }) },
    { index: 2 as LogIndex, data: isDecoded ? Uint8Array.from(data) : data },
  ]);
  const ids = post.idsOf((result as { seqs: number[] }).seqs);
  return ids.map((postedId, i) => {
    expect(postedId).toMatch(/^[0-9a-f]{24}$/);
    expect(store.seqOfId(key, postedId)).toBe(i + 1);
    const { id, ...record } = store.getMessage(key, i + 1) ?? { id: undefined };
    expect(id).toBe(postedId);
    return { ...record, body: decodeBody(store.getBody(key, i + 1) ?? new Uint8Array()) };
  });
}

test('a post carrying entries, with minted or derived ids, packed or not, applies as the same post carrying bodies', () => {
  for (const [name, open] of stores()) {
    for (const fsmNowMs of [0, 1_763_800_001_000]) {
      for (const clientId of ['3381AF92-2B9E-11E3-B191-71861300734C', 'not-a-uuid']) {
        const options = { nowMs: 1_763_800_000_123, clientId, enableChecksum: true };
        const asBodies = applied(open(), { ...options, ...forms.bodies! }, fsmNowMs, true);
        for (const form of ['entries', 'derived', 'packed']) {
          for (const isDecoded of [false, true]) {
            const asEntries = applied(open(), { ...options, ...forms[form]! }, fsmNowMs, isDecoded);
            expect(asEntries, `${name}, ${form}, decoded ${isDecoded}, replica time ${fsmNowMs}, Client-ID ${clientId}`).toEqual(asBodies);
          }
        }
        expect(asBodies[1]).toMatchObject({ createdMs: Math.max(fsmNowMs, options.nowMs), ttlSeconds: 60, body: 'ü'.repeat(100) });
      }
    }
  }
});

test('each capability changes the form only once every replica applies it', () => {
  const options = { nowMs: 5, clientId: 'c', enableChecksum: false };
  const carried = (form: Form): object => postedMessages(newMessages, { ...options, ...form }).carried;
  const keysOf = (form: Form): string[][] => {
    const post = carried(form);
    return 'messages' in post ? (post.messages as object[]).map((m) => Object.keys(m).sort()) : [];
  };
  expect(keysOf(forms.bodies!)).toEqual(newMessages.map(() => ['body', 'checksum', 'delaySeconds', 'id', 'ttlSeconds']));
  expect(keysOf({ asEntries: false, derivesIds: true, packsEntries: true })).toEqual(keysOf(forms.bodies!));
  expect(keysOf(forms.entries!)).toEqual(newMessages.map(() => ['delaySeconds', 'entry', 'id', 'ttlSeconds']));
  expect(keysOf({ asEntries: true, derivesIds: false, packsEntries: true })).toEqual(keysOf(forms.entries!));
  expect(keysOf(forms.derived!)).toEqual(newMessages.map(() => ['delaySeconds', 'entry', 'ttlSeconds']));
  expect(Object.keys(carried(forms.packed!))).toEqual(['packed']);
});

test('a store written before ids were derived reopens and serves its messages by id beside derived ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-posted-'));
  const options = { nowMs: 1_763_800_000_123, clientId: 'c', enableChecksum: false };
  const post = (fsm: QueueFsm, form: Form): string[] => {
    const built = postedMessages(newMessages, { ...options, ...form });
    const data = encodeCommand({ type: 'post', nowMs: options.nowMs, project: 'p', queue: 'q', clientId: 'c', ...built.carried });
    const [result] = fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data }]);
    return built.idsOf((result as { seqs: number[] }).seqs);
  };
  const before = openLmdbEnv(dir);
  const oldIds = post(new QueueFsm(shard, new LmdbQueueStore(before)), forms.bodies!);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await before.close();

  const env = openLmdbEnv(dir);
  envs.push({ env, dir });
  const store = new LmdbQueueStore(env);
  const fsm = new QueueFsm(shard, store);
  const newIds = post(fsm, forms.derived!);
  const indexed = env.openDB({ name: 'queue-ids' });
  await fsm.awaitCommitted();
  expect(indexed.getCount()).toBe(oldIds.length); // derived ids need no index record
  expect([...oldIds, ...newIds].map((id) => store.seqOfId(key, id))).toEqual([1, 2, 3, 4, 5, 6]);
  expect([...store.messages(key, 0)].map((m) => m.id)).toEqual([...oldIds, ...newIds]);
  // An id whose seq digits lead to a message but whose tail is another is not that message.
  expect(store.seqOfId(key, newIds[0]!.slice(0, 12) + '000000000000')).toBeUndefined();
  expect(store.seqOfId(key, oldIds[0]!.slice(0, 12) + newIds[0]!.slice(12))).toBeUndefined();

  const remove = (id: string): unknown => {
    const command: ShardCommand = { type: 'deleteMessage', nowMs: options.nowMs, project: 'p', queue: 'q', id, claimId: null, commandId: `delete-${fsm.appliedIndex}` };
    return fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0];
  };
  expect(remove(oldIds[1]!)).toEqual({ outcome: 'deleted' });
  expect(remove(newIds[1]!)).toEqual({ outcome: 'deleted' });
  expect(remove(newIds[1]!)).toEqual({ outcome: 'missing' });
  await fsm.awaitCommitted();
  expect(indexed.getCount()).toBe(oldIds.length - 1);
  expect([oldIds[1]!, newIds[1]!].map((id) => store.seqOfId(key, id))).toEqual([undefined, undefined]);
});

test('messages at seqs past what an id can hold keep their wrapped id and an index record', async () => {
  const [, open] = stores()[1]!;
  const store = open() as LmdbQueueStore;
  store.putQueue(key, { metadata: {}, nextSeq: derivedSeqLimit - 1, createdMs: 0 });
  const fsm = new QueueFsm(shard, store);
  const built = postedMessages(newMessages, { nowMs: 5, clientId: 'c', enableChecksum: false, ...forms.derived! });
  const data = encodeCommand({ type: 'post', nowMs: 5, project: 'p', queue: 'q', clientId: 'c', ...built.carried });
  const [result] = fsm.apply([{ index: 1 as LogIndex, data }]);
  const seqs = (result as { seqs: number[] }).seqs;
  expect(seqs).toEqual([derivedSeqLimit - 1, derivedSeqLimit, derivedSeqLimit + 1]);
  const ids = built.idsOf(seqs);
  expect(ids.map((id) => id.slice(0, 12))).toEqual(['ffffffffffff', '000000000000', '000000000001']);
  expect(ids.map((id) => store.seqOfId(key, id))).toEqual(seqs);
  expect(seqs.map((seq) => store.getMessage(key, seq)?.id)).toEqual(ids);
});

test('a packed post longer than a run (a coalesced post) is stored as runs of at most 100 messages, all readable and deletable', async () => {
  for (const [name, open] of stores()) {
    const store = open();
    const fsm = new QueueFsm(shard, store);
    const long = Array.from({ length: 250 }, (_, n) => ({ body: { n }, ttlSeconds: 300, delaySeconds: 0 }));
    const built = postedMessages(long, { nowMs: 5, clientId: 'c', enableChecksum: false, ...forms.packed! });
    const data = encodeCommand({ type: 'post', nowMs: 5, project: 'p', queue: 'q', clientId: 'c', ...built.carried });
    const [result] = fsm.apply([{ index: 1 as LogIndex, data }]);
    const ids = built.idsOf((result as { seqs: number[] }).seqs);
    expect(ids.map((id) => store.seqOfId(key, id)), name).toEqual(long.map((_, i) => i + 1));
    if (name === 'lmdb') {
      await fsm.awaitCommitted();
      expect(envs[envs.length - 1]!.env.openDB({ name: 'queue-entries', encoding: 'binary' }).getCount(), 'records of the 250 messages').toBe(3);
    }
    // Delete messages at runs' edges and inside them, then read everything back.
    const gone = new Set([1, 100, 101, 150, 200, 201, 250]);
    const [deleteResult] = fsm.apply([{ index: 2 as LogIndex, data: encodeCommand({
      type: 'deleteMessages', nowMs: 6, project: 'p', queue: 'q', ids: [...gone].map((seq) => ids[seq - 1]!), claimIds: null, commandId: 'd' }) }]);
    expect(deleteResult, name).toBeDefined();
    await fsm.awaitCommitted();
    expect([...store.messages(key, 0)].map((m) => m.seq), name).toEqual(long.map((_, i) => i + 1).filter((seq) => !gone.has(seq)));
    for (const seq of [2, 99, 102, 149, 151, 199, 202, 249]) expect(decodeBody(store.getBody(key, seq) ?? new Uint8Array()), `${name} ${seq}`).toEqual({ n: seq - 1 });
  }
});

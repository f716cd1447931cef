/**
 * QueueFsm applies each keyed command at most once (AppliedWindow), on the memory store.
 * For every command type that carries a dedup key: a log holding the command, other
 * commands, then the command again ends in the state of the log without the repeat
 * (compared record by record, window included) and the repeat returns the first result.
 * The window forgets by count and by FSM time, travels in snapshots (and old images
 * without one still restore), and a replica restored from a snapshot, or restarted on
 * its store, deduplicates exactly like one that applied the whole log.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import type { QueueStore } from '../../log/queue-store.js';
import type { AppliedWindowLimits } from './applied-window.js';
import { decodeBody, encodeBody } from './body-codec.js';
import { dedupKeyOf } from './command-ids.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { QueueFsm } from './queue-fsm.js';
import { captureShardImage, encodeShardImage } from './shard-image.js';

const shard = 1 as ShardId;
const at = { project: 'p', queue: 'q' };

class Replica {
  readonly fsm: QueueFsm;
  constructor(
    readonly store: QueueStore = new MemoryQueueStore(),
    limits?: AppliedWindowLimits,
  ) {
    this.fsm = new QueueFsm(shard, store, limits);
  }

  apply(command: ShardCommand): unknown {
    return this.fsm.apply([{ index: (this.fsm.appliedIndex + 1) as LogIndex, data: encodeCommand(command) }])[0];
  }

  applyAll(commands: readonly ShardCommand[]): unknown[] {
    return commands.map((command) => this.apply(command));
  }

  /** Applies `commands` in one apply call (one batch, as a Raft round's committed entries). */
  applyBatch(commands: readonly ShardCommand[]): unknown[] {
    const first = this.fsm.appliedIndex + 1;
    return this.fsm.apply(commands.map((command, i) => ({ index: (first + i) as LogIndex, data: encodeCommand(command) })));
  }

  /** The store's window records: [index, how many commands each holds]. */
  records(): [number, number][] {
    return [...this.store.applied(shard)].map((r) => [r.index, Array.isArray(unpack(r.data)) ? (unpack(r.data) as unknown[]).length : 1]);
  }

  /** Everything stored for the shard except the applied index (a repeat advances it). */
  state(): unknown {
    const image = captureShardImage(this.store, shard, this.fsm.store.getShardMeta(shard) ?? { appliedIndex: 0, lastNowMs: 0, nextOutboxSeq: 1, inbox: {} }, this.fsm.windowRecords());
    const { appliedIndex: _index, ...meta } = image.meta;
    // A held message's id is in the index only where its claim was applied: compared without it.
    const claims = [...this.fsm.index.claims('p\u0000q').values()]
      .map((c) => ({ id: c.id, expiresMs: c.expiresMs, messages: c.messages.map(({ seq, expiresMs, visibleMs }) => ({ seq, expiresMs, visibleMs })) }));
    // Through msgpack so every byte array compares as the same type, whichever store made it.
    return unpack(pack({ ...image, meta, claims })) as unknown;
  }
}

function post(nowMs: number, ids: readonly string[]): ShardCommand {
  const messages = ids.map((id, i) => ({ id, body: encodeBody({ i }), ttlSeconds: 600, delaySeconds: 0, checksum: null }));
  return { type: 'post', nowMs, ...at, clientId: 'c', messages };
}

const created = (nowMs: number, commandId?: string): ShardCommand => ({ type: 'createQueue', nowMs, ...at, metadata: {}, ...(commandId === undefined ? {} : { commandId }) });
const claim = (nowMs: number, claimId: string, limit = 2): ShardCommand => ({ type: 'claim', nowMs, ...at, claimId, limit, ttlSeconds: 60, graceSeconds: 60 });
const subscribe = (nowMs: number, id: string, subscriber = 'http://a'): ShardCommand => ({
  type: 'subscription',
  nowMs,
  ...at,
  op: { op: 'create', id, subscriber, options: {}, ttlSeconds: 600, subscriptionsMax: 10 },
});

interface Case {
  readonly name: string;
  readonly setup: readonly ShardCommand[];
  readonly command: ShardCommand;
  /** Applied between the command and its repeat: what a second apply would trample. */
  readonly between: readonly ShardCommand[];
}

// Times: setup at 1 000, the command at 2 000, the commands in between at 3 000.
const cases: readonly Case[] = [
  { name: 'post', setup: [created(1000)], command: post(2000, ['m1', 'm2']), between: [post(3000, ['m3'])] },
  { name: 'claim', setup: [post(1000, ['m1', 'm2', 'm3'])], command: claim(2000, 'c1'), between: [] },
  { name: 'pop', setup: [post(1000, ['m1', 'm2', 'm3'])], command: { type: 'pop', nowMs: 2000, ...at, limit: 1, commandId: 'k' }, between: [] },
  { name: 'createQueue', setup: [], command: created(2000, 'k'), between: [{ type: 'deleteQueue', nowMs: 3000, ...at, commandId: 'd' }] },
  {
    name: 'setMetadata',
    setup: [created(1000)],
    command: { type: 'setMetadata', nowMs: 2000, ...at, metadata: { a: 1 }, commandId: 'k' },
    between: [{ type: 'setMetadata', nowMs: 3000, ...at, metadata: { b: 2 }, commandId: 'k2' }],
  },
  { name: 'deleteQueue', setup: [post(1000, ['m1'])], command: { type: 'deleteQueue', nowMs: 2000, ...at, commandId: 'k' }, between: [post(3000, ['m2'])] },
  { name: 'purge', setup: [post(1000, ['m1'])], command: { type: 'purge', nowMs: 2000, ...at, commandId: 'k' }, between: [post(3000, ['m2'])] },
  {
    name: 'deleteMessage',
    setup: [post(1000, ['m1'])],
    command: { type: 'deleteMessage', nowMs: 2000, ...at, id: 'm1', claimId: null, commandId: 'k' },
    between: [],
  },
  {
    name: 'deleteMessages',
    setup: [post(1000, ['m1', 'm2'])],
    command: { type: 'deleteMessages', nowMs: 2000, ...at, ids: ['m1'], claimIds: null, commandId: 'k' },
    between: [],
  },
  {
    name: 'renew',
    setup: [post(1000, ['m1']), claim(1000, 'c1')],
    command: { type: 'renew', nowMs: 2000, ...at, claimId: 'c1', ttlSeconds: 100, graceSeconds: 60, commandId: 'k' },
    between: [],
  },
  {
    name: 'release',
    setup: [post(1000, ['m1']), claim(1000, 'c1')],
    command: { type: 'release', nowMs: 2000, ...at, claimId: 'c1', commandId: 'k' },
    between: [],
  },
  { name: 'subscription create', setup: [created(1000)], command: subscribe(2000, 's1'), between: [] },
  {
    name: 'subscription update',
    setup: [subscribe(1000, 's1')],
    command: { type: 'subscription', nowMs: 2000, ...at, op: { op: 'update', id: 's1', subscriber: null, options: { a: 1 }, ttlSeconds: null }, commandId: 'k' },
    between: [{ type: 'subscription', nowMs: 3000, ...at, op: { op: 'update', id: 's1', subscriber: null, options: { b: 2 }, ttlSeconds: null }, commandId: 'k2' }],
  },
  {
    name: 'subscription delete',
    setup: [subscribe(1000, 's1')],
    command: { type: 'subscription', nowMs: 2000, ...at, op: { op: 'delete', id: 's1' }, commandId: 'k' },
    between: [],
  },
  {
    name: 'subscription purge',
    setup: [subscribe(1000, 's1')],
    command: { type: 'subscription', nowMs: 2000, ...at, op: { op: 'purge' }, commandId: 'k' },
    between: [subscribe(3000, 's2', 'http://b')],
  },
];

describe('QueueFsm applies a keyed command at most once', () => {
  test.each(cases)('$name applied again after other commands changes nothing and returns the first result', ({ setup, command, between }) => {
    expect(dedupKeyOf(command)).toBeDefined();
    const once = new Replica();
    once.applyAll(setup);
    const first = once.apply(command);
    once.applyAll(between);

    const twice = new Replica();
    twice.applyAll(setup);
    expect(twice.apply(command)).toEqual(first);
    twice.applyAll(between);
    expect(twice.apply(command)).toEqual(first);
    expect(twice.state()).toEqual(once.state());
  });

  test('a repeated pop returns the first messages, not the next ones', () => {
    const replica = new Replica();
    replica.apply(post(1000, ['m1', 'm2']));
    const pop: ShardCommand = { type: 'pop', nowMs: 2000, ...at, limit: 1, commandId: 'k' };
    const first = replica.apply(pop) as { messages: { id: string }[] };
    expect(first.messages.map((m) => m.id)).toEqual(['m1']);
    expect(replica.apply(pop)).toEqual(first);
    expect(replica.fsm.index.free('p\u0000q')?.size).toBe(1);
  });

  test('commands without a key (gc, outbox ack) are applied every time', () => {
    const replica = new Replica();
    replica.apply(post(1000, ['m1']));
    expect(dedupKeyOf({ type: 'gc', nowMs: 0, removalsMax: 1 })).toBeUndefined();
    expect(replica.fsm.windowSize).toBe(1);
    replica.apply({ type: 'gc', nowMs: 2000, removalsMax: 1 });
    replica.apply({ type: 'outboxAck', nowMs: 2000, outboxSeq: 1 });
    expect(replica.fsm.windowSize).toBe(1);
  });
});

describe('AppliedWindow bounds', () => {
  test('beyond commandsMax the oldest command is forgotten and a repeat of it applies again', () => {
    const replica = new Replica(new MemoryQueueStore(), { commandsMax: 2, ageMs: 3_600_000 });
    replica.apply(post(1000, ['m1', 'm2', 'm3', 'm4']));
    const pops = ['a', 'b', 'c'].map((commandId): ShardCommand => ({ type: 'pop', nowMs: 2000, ...at, limit: 1, commandId }));
    replica.applyAll(pops);
    // The post and the first pop were evicted: 2 records remain.
    expect(replica.fsm.windowSize).toBe(2);
    expect([...replica.store.applied(shard)].map((r) => r.index)).toEqual([3, 4]);
    const [popA, , popC] = pops;
    if (popA === undefined || popC === undefined) throw new Error('no pops');
    expect(replica.apply(popC)).toEqual({ messages: [expect.objectContaining({ id: 'm3' })] });
    expect(replica.apply(popA)).toEqual({ messages: [expect.objectContaining({ id: 'm4' })] });
  });

  test('a restarted replica evicts the records it rebuilt oldest first, then those it applied', async () => {
    const store = new MemoryQueueStore();
    const limits = { commandsMax: 3, ageMs: 3_600_000 };
    const first = new Replica(store, limits);
    const pops = ['a', 'b', 'c', 'd', 'e', 'f'].map((commandId): ShardCommand => ({ type: 'pop', nowMs: 2000, ...at, limit: 1, commandId }));
    first.apply(post(1000, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']));
    first.applyAll(pops.slice(0, 3)); // window: pops a, b, c (indexes 2-4)
    await first.fsm.awaitCommitted();
    const restarted = new Replica(store, limits);
    restarted.applyAll(pops.slice(3)); // each evicts the oldest: a, then b, then c
    await restarted.fsm.awaitCommitted();
    expect([...store.applied(shard)].map((r) => r.index)).toEqual([5, 6, 7]);
    restarted.applyAll(pops.slice(0, 1)); // a is forgotten: pops again (m7), evicting d
    expect([...store.applied(shard)].map((r) => r.index)).toEqual([6, 7, 8]);
    expect(restarted.apply(pops[4]!)).toEqual({ messages: [expect.objectContaining({ id: 'm5' })] }); // e still known
  });

  test('records older than ageMs of command time are forgotten when a later command applies', () => {
    const replica = new Replica(new MemoryQueueStore(), { commandsMax: 100, ageMs: 10_000 });
    replica.apply(post(1000, ['m1', 'm2']));
    const pop: ShardCommand = { type: 'pop', nowMs: 2000, ...at, limit: 1, commandId: 'k' };
    replica.apply(pop);
    replica.apply({ type: 'gc', nowMs: 11_000, removalsMax: 1 });
    expect(replica.fsm.windowSize).toBe(1);
    replica.apply({ type: 'gc', nowMs: 12_000, removalsMax: 1 });
    expect(replica.fsm.windowSize).toBe(0);
    expect([...replica.store.applied(shard)]).toEqual([]);
    // Too late to be recognised: the pop takes the next message.
    expect(replica.apply(pop)).toEqual({ messages: [expect.objectContaining({ id: 'm2' })] });
  });
});

describe('AppliedWindow is replicated state', () => {
  const log: readonly ShardCommand[] = [
    post(1000, ['m1', 'm2', 'm3']),
    claim(2000, 'c1', 1),
    { type: 'pop', nowMs: 3000, ...at, limit: 1, commandId: 'k' },
  ];
  const repeats: readonly ShardCommand[] = [...log].reverse();

  test('a replica restored from a snapshot deduplicates like one that applied the log', async () => {
    const source = new Replica();
    const results = source.applyAll(log);
    await source.fsm.awaitCommitted();
    const snapshot = source.fsm.snapshot();

    const restored = new Replica();
    restored.apply(post(500, ['old']));
    await restored.fsm.awaitCommitted();
    restored.fsm.restore(snapshot.data);
    expect(restored.fsm.windowSize).toBe(3);
    expect(restored.state()).toEqual(source.state());

    expect(restored.applyAll(repeats)).toEqual([...results].reverse());
    expect(source.applyAll(repeats)).toEqual([...results].reverse());
    expect(restored.state()).toEqual(source.state());
  });

  test('a restarted replica rebuilds its window from the store', async () => {
    const store = new MemoryQueueStore();
    const first = new Replica(store);
    const results = first.applyAll(log);
    await first.fsm.awaitCommitted();
    const restarted = new Replica(store);
    expect(restarted.fsm.windowSize).toBe(3);
    expect(restarted.applyAll(repeats)).toEqual([...results].reverse());
  });

  test('a replica that forgets the shard drops its window with the rest of its state', async () => {
    const replica = new Replica();
    replica.applyAll(log);
    await replica.fsm.awaitCommitted();
    replica.fsm.forget();
    expect(replica.fsm.windowSize).toBe(0);
    await replica.fsm.awaitCommitted();
    expect([...replica.store.applied(shard)]).toEqual([]);
  });

  test('an image made before the window existed restores with an empty window', async () => {
    const source = new Replica();
    source.applyAll(log);
    await source.fsm.awaitCommitted();
    const { applied: _applied, ...oldImage } = captureShardImage(source.store, shard, source.fsm.store.getShardMeta(shard) ?? { appliedIndex: 0, lastNowMs: 0, nextOutboxSeq: 1, inbox: {} }, []);

    const restored = new Replica();
    restored.fsm.restore(encodeShardImage(oldImage));
    expect(restored.fsm.windowSize).toBe(0);
    expect(restored.fsm.appliedIndex).toBe(3);
    const { applied: _none, ...restoredState } = restored.state() as { applied: unknown };
    const { applied: _some, ...sourceState } = source.state() as { applied: unknown };
    expect(restoredState).toEqual(sourceState);
  });
});

describe('AppliedWindow stores one record per apply batch', () => {
  const pop = (commandId: string, nowMs = 2000): ShardCommand => ({ type: 'pop', nowMs, ...at, limit: 1, commandId });
  const popped = (id: string): unknown => ({ messages: [expect.objectContaining({ id })] });
  const setup = post(1000, Array.from({ length: 12 }, (_, i) => `m${i + 1}`));

  test('the keyed commands of one batch share one record, keyed by the first, and answer their repeats', () => {
    const replica = new Replica();
    const first = replica.applyBatch([setup, pop('a'), { type: 'gc', nowMs: 2000, removalsMax: 1 }, pop('b'), pop('a')]);
    // The post and the two pops; the repeat of a inside the batch answered its first result.
    expect(replica.records()).toEqual([[1, 3]]);
    expect(replica.fsm.windowSize).toBe(3);
    expect(first[4]).toEqual(first[1]);
    expect(replica.applyBatch([pop('b'), setup, pop('c')])).toEqual([first[3], first[0], popped('m3')]);
    expect(replica.records()).toEqual([[1, 3], [8, 1]]);
  });

  test('a record is removed with the last of its commands, and one evicted within its batch is not stored', () => {
    const replica = new Replica(new MemoryQueueStore(), { commandsMax: 3, ageMs: 3_600_000 });
    replica.applyBatch([setup]);
    replica.applyBatch([pop('a'), pop('b'), pop('c')]); // evicts the post: its record goes
    expect(replica.records()).toEqual([[2, 3]]);
    replica.applyBatch([pop('d')]); // evicts a; b and c keep the record
    expect(replica.records()).toEqual([[2, 3], [5, 1]]);
    replica.applyBatch([pop('e'), pop('f')]); // evicts b and c: their record goes
    expect(replica.records()).toEqual([[5, 1], [6, 2]]);
    replica.applyBatch([pop('g'), pop('h'), pop('i'), pop('j')]); // all but h, i, j evicted; g never stored
    expect(replica.records()).toEqual([[9, 3]]);
    expect(replica.fsm.windowSize).toBe(3);
    expect(replica.applyBatch([pop('i'), pop('a')])).toEqual([popped('m9'), popped('m11')]);
  });

  test('a restarted replica evicts again what a record still holds of evicted commands, by count and by age', async () => {
    for (const limits of [{ commandsMax: 3, ageMs: 3_600_000 }, { commandsMax: 100, ageMs: 10_000 }]) {
      const [live, stopped] = [new Replica(new MemoryQueueStore(), limits), new Replica(new MemoryQueueStore(), limits)];
      for (const replica of [live, stopped]) {
        replica.applyBatch([setup]);
        replica.applyBatch([pop('a', 1000), pop('b', 6000), pop('c', 6000)]);
        replica.applyBatch([pop('d', 11_500)]); // evicts the post and a (the count bound, or their age)
      }
      expect(stopped.records()).toEqual([[2, 3], [5, 1]]);
      await stopped.fsm.awaitCommitted();
      const restarted = new Replica(stopped.store, limits);
      expect(restarted.fsm.windowSize).toBe(live.fsm.windowSize);
      expect(restarted.fsm.windowRecords()).toEqual(live.fsm.windowRecords());
      // b is still answered on both, a is forgotten on both (pops the next message).
      const repeats = [pop('b', 11_500), pop('a', 11_500)];
      expect(restarted.applyBatch(repeats)).toEqual([popped('m2'), popped('m5')]);
      expect(live.applyBatch(repeats)).toEqual([popped('m2'), popped('m5')]);
    }
  });
});

describe('a repeated claim is rebuilt from the current state', () => {
  type ClaimAnswer = { claim: { id: string; messages: { id: string; body: Uint8Array }[] } | null; outboxSeqs: number[] };
  const ids = (answer: unknown): string[] => (answer as ClaimAnswer).claim?.messages.map((m) => m.id) ?? [];
  const deleted = (nowMs: number, id: string, claimId: string, commandId: string): ShardCommand => ({ type: 'deleteMessage', nowMs, ...at, id, claimId, commandId });

  test('its window record names the claimed messages and holds none of their bodies', () => {
    const replica = new Replica();
    replica.apply(post(1000, ['m1', 'm2']));
    replica.apply(claim(2000, 'c1'));
    const [record] = [...replica.store.applied(shard)].slice(-1);
    if (record === undefined) throw new Error('no window record');
    const [[, key, type, , stored]] = unpack(record.data) as [[number, string, string, number, Record<string, unknown>]];
    expect([key, type]).toEqual(['c1', 'claim']);
    expect(stored).not.toHaveProperty('result');
    expect(stored['claimRef']).toMatchObject({ project: 'p', queue: 'q', id: 'c1', held: [[1, 'm1'], [2, 'm2']] });
    // The image's record of it: the same reference, in the command form.
    const [imaged] = replica.fsm.windowRecords().slice(-1);
    expect(unpack(imaged?.data ?? new Uint8Array())).toEqual({ key: 'c1', type: 'claim', nowMs: 2000, ...stored });
  });

  test('after one of its messages was deleted it answers the rest, never another message', () => {
    const replica = new Replica();
    replica.apply(post(1000, ['m1', 'm2', 'm3']));
    const first = replica.apply(claim(2000, 'c1')) as ClaimAnswer;
    expect(ids(first)).toEqual(['m1', 'm2']);
    replica.apply(deleted(3000, 'm1', 'c1', 'd1'));
    const repeat = replica.apply(claim(2000, 'c1')) as ClaimAnswer;
    expect(repeat).toEqual({ ...first, claim: { ...first.claim, messages: first.claim?.messages.slice(1) } });
    // m3 stays free: the repeat claimed nothing.
    expect(replica.fsm.index.free('p\u0000q')?.size).toBe(1);
    replica.apply(deleted(3000, 'm2', 'c1', 'd2'));
    expect(replica.apply(claim(2000, 'c1'))).toEqual({ claim: null, outboxSeqs: [] });
  });

  test('messages released and claimed by another claim meanwhile are left out', () => {
    const replica = new Replica();
    replica.apply(post(1000, ['m1', 'm2']));
    replica.apply(claim(2000, 'c1'));
    replica.apply({ type: 'release', nowMs: 3000, ...at, claimId: 'c1', commandId: 'r' });
    expect(ids(replica.apply(claim(3000, 'c2', 1)))).toEqual(['m1']);
    expect(replica.apply(claim(2000, 'c1'))).toEqual({ claim: null, outboxSeqs: [] });
    replica.apply(claim(3000, 'c3', 1));
    expect(ids(replica.apply(claim(2000, 'c1')))).toEqual([]);
  });

  test('a restarted replica and one restored from a snapshot answer the repeat alike', async () => {
    const store = new MemoryQueueStore();
    const source = new Replica(store);
    source.applyAll([post(1000, ['m1', 'm2', 'm3']), claim(2000, 'c1', 3), deleted(3000, 'm2', 'c1', 'd')]);
    await source.fsm.awaitCommitted();
    const snapshot = source.fsm.snapshot();
    const restarted = new Replica(store);
    const restored = new Replica();
    restored.fsm.restore(snapshot.data);

    const answers = [source, restarted, restored].map((replica) => replica.apply(claim(2000, 'c1', 3)) as ClaimAnswer);
    expect(ids(answers[0])).toEqual(['m1', 'm3']);
    expect(answers[0]?.claim?.messages.map((m) => decodeBody(m.body))).toEqual([{ i: 0 }, { i: 2 }]);
    // Bodies compared by their bytes: a store may hand them out as Buffers or as other Uint8Arrays.
    for (const answer of answers) for (const m of answer.claim?.messages ?? []) m.body = Uint8Array.from(m.body);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(restored.state()).toEqual(restarted.state());
  });

  test('a record written in the older format (the whole first result) still answers its repeat', async () => {
    const store = new MemoryQueueStore();
    const writer = new Replica(store);
    writer.applyAll([post(1000, ['m1', 'm2']), claim(2000, 'c1', 1)]);
    // What the previous format stored for the claim at index 2: key, type, time and the
    // result itself (here one that differs from what a rebuild would give, to tell them apart).
    const oldResult = { claim: { id: 'c1', ttlSeconds: 60, updatedMs: 2000, messages: [{ id: 'm1', seq: 1, body: { i: 0 }, ttlSeconds: 600, createdMs: 1000, claimId: 'c1', claimCount: 0 }] }, outboxSeqs: [7] };
    store.putApplied(shard, { index: 2, data: pack({ key: 'c1', type: 'claim', nowMs: 2000, result: oldResult }) });
    await writer.fsm.awaitCommitted();

    const restarted = new Replica(store);
    expect(restarted.fsm.windowSize).toBe(2);
    expect(restarted.apply(claim(2000, 'c1', 1))).toEqual(oldResult);
  });
});

/**
 * RaftShardHost applies entries as a log write is issued where it can, so the apply's
 * queue-store writes share that write's LMDB transaction instead of one of their own:
 *  - a group whose only voter is this node commits its leader's entries by writing
 *    them: one transaction per lone proposal, not two, while proposers and reads still
 *    wait until the write is durable;
 *  - a follower told only that entries committed holds them for its next log write (or
 *    a tick, or a read): one transaction per lone proposal on each follower, not two,
 *    and a read through the follower still sees every committed entry.
 * Real LMDB (one environment per node for the log and the queue state, as in the
 * server); transactions are counted with LMDB's own last transaction id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { SeededRandom } from '../../src/common/random.js';
import { ManualTimers, SystemDelays } from '../../src/common/timers.js';
import { RaftShardHost } from '../../src/cluster/raft-shard-host.js';
import type { ShardGroup } from '../../src/cluster/shard-group.js';
import { encodeBody } from '../../src/cluster/shard/body-codec.js';
import { encodeCommand } from '../../src/cluster/shard/commands.js';
import { QueueFsm } from '../../src/cluster/shard/queue-fsm.js';
import { LogStoreDecorator } from '../../src/log/log-store-decorator.js';
import type { LogStore } from '../../src/log/log-store.js';
import { openLmdbEnv, type LmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { LmdbQueueStore } from '../../src/log/lmdb/lmdb-queue-store.js';
import type { PersistBatch, RaftMessage, RaftTransport, ShardId as RaftShardId } from '../../src/raft/types.js';
import { waitFor } from './support/in-process.js';

const shardId = 0 as ShardId;
const base = { nowMs: 1_000_000, project: 'p', queue: 'q' };

/** Passes writes through at once but reports them durable only when released (a slow disk). */
class HeldFlushLogStore extends LogStoreDecorator {
  isHolding = false;
  private held: (() => void)[] = [];

  constructor(inner: LogStore) {
    super(inner);
  }

  override persist(id: RaftShardId, batch: PersistBatch): Promise<void> {
    const written = this.inner.persist(id, batch);
    if (!this.isHolding) return written;
    return written.then(() => new Promise<void>((resolve) => this.held.push(resolve)));
  }

  get heldWrites(): number {
    return this.held.length;
  }

  release(): void {
    this.isHolding = false;
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }
}

let opened: { host: RaftShardHost; env: LmdbEnv; dir: string }[] = [];
let heldStore: HeldFlushLogStore | undefined;

afterEach(async () => {
  heldStore?.release();
  heldStore = undefined;
  for (const node of opened) await node.host.close();
  for (const node of opened) {
    await node.env.close();
    rmSync(node.dir, { recursive: true, force: true });
  }
  opened = [];
});

/** Delivers every message on a later event-loop turn, like a socket would. */
function network(): (nodeId: NodeId) => RaftTransport {
  const handlers = new Map<NodeId, (message: RaftMessage) => void>();
  return (nodeId) => ({
    send: (messages) => {
      for (const message of messages) setImmediate(() => handlers.get(message.to)?.(message));
    },
    onMessage: (handler) => handlers.set(nodeId, handler),
    close: async () => {},
  });
}

function openNode(nodeId: NodeId, peers: readonly NodeId[], transport: RaftTransport | undefined, wrap: (store: LogStore) => LogStore): { group: ShardGroup; fsm: QueueFsm; env: LmdbEnv; timers: ManualTimers } {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-apply-ahead-'));
  const env = openLmdbEnv(dir);
  const timers = new ManualTimers();
  const host = new RaftShardHost({
    nodeId,
    logStore: wrap(new LmdbLogStore(env)),
    transport,
    random: new SeededRandom(nodeId),
    timers,
    delays: new SystemDelays(),
    tickMs: 10,
  });
  opened.push({ host, env, dir });
  const fsm = new QueueFsm(shardId, new LmdbQueueStore(env));
  return { group: host.addGroup(fsm, peers), fsm, env, timers };
}

async function openSingleVoter(wrap: (store: LogStore) => LogStore = (store) => store): Promise<{ group: ShardGroup; fsm: QueueFsm; env: LmdbEnv }> {
  const node = openNode(1 as NodeId, [1 as NodeId], undefined, wrap);
  await waitFor('the group to elect itself', 5_000, () => (node.group.isLeader() ? true : undefined));
  await node.group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  return node;
}

function post(i: number): Uint8Array {
  const id = i.toString(16).padStart(24, '0');
  return encodeCommand({ ...base, type: 'post', clientId: 'c', messages: [{ id, body: encodeBody({ i }), ttlSeconds: 600, delaySeconds: 0, checksum: null }] });
}

function lastTxnId(env: LmdbEnv): number {
  return (env.getStats() as { lastTxnId: number }).lastTxnId;
}

test('a lone proposal of a single voter takes one LMDB transaction: its apply shares the log write', async () => {
  const { group, fsm, env } = await openSingleVoter();
  const before = lastTxnId(env);
  const proposals = 20;
  for (let i = 0; i < proposals; i++) {
    const result = await group.propose(post(i));
    expect(result).toEqual({ seqs: [i + 1] });
    // The apply's writes are committed with the log write the proposer waited for.
    await fsm.awaitCommitted();
  }
  // Two per proposal without the shared transaction; a compaction may add one.
  expect(lastTxnId(env) - before).toBeLessThanOrEqual(proposals + 2);
  expect([...fsm.store.messages({ shardId, ...base }, 0)].length).toBe(proposals);
});

test('entries applied ahead of their flush answer neither their proposer nor a read until the write is durable', async () => {
  const { group, fsm } = await openSingleVoter((inner) => (heldStore = new HeldFlushLogStore(inner)));
  const held = heldStore as HeldFlushLogStore;
  held.isHolding = true;
  const appliedBefore = fsm.appliedIndex;
  let isAnswered = false;
  let isRead = false;
  const proposal = group.propose(post(1)).then(() => (isAnswered = true));
  await waitFor('the write to be issued and its entry applied', 5_000, () => (held.heldWrites > 0 && fsm.appliedIndex > appliedBefore ? true : undefined));
  const read = group.readBarrier().then(() => (isRead = true));
  // Several event-loop turns: the write is done but reported durable only on release.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(isAnswered).toBe(false);
  expect(isRead).toBe(false);
  held.release();
  await Promise.all([proposal, read]);
  expect(isAnswered && isRead).toBe(true);
});

test('a follower applies a lone committed entry with its next log write: one LMDB transaction per proposal, and reads through it see every entry', async () => {
  const ids = [1, 2, 3] as NodeId[];
  const transportOf = network();
  const nodes = ids.map((id) => openNode(id, ids, transportOf(id), (store) => store));
  const [leader, follower] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
  leader.group.requestCampaign();
  await waitFor('node 1 to lead', 5_000, () => (leader.group.isLeader() ? true : undefined));
  await leader.group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  await follower.group.readBarrier();
  const before = lastTxnId(follower.env);
  const proposals = 20;
  for (let i = 0; i < proposals; i++) {
    await leader.group.propose(post(i));
    // Alone: the follower hears of the commit well before the next append.
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await follower.group.readBarrier();
  await follower.fsm.awaitCommitted();
  // Each append is one transaction; its commit is applied with the next (two each without holding).
  expect(lastTxnId(follower.env) - before).toBeLessThanOrEqual(proposals + 3);
  expect([...follower.fsm.store.messages({ shardId, ...base }, 0)].length).toBe(proposals);

  // A commit with no append after it is applied by the next tick.
  await leader.group.propose(post(proposals));
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(follower.fsm.appliedIndex).toBeLessThan(leader.fsm.appliedIndex);
  follower.timers.runAll();
  expect(follower.fsm.appliedIndex).toBe(leader.fsm.appliedIndex);
});

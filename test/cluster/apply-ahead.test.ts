/**
 * A group whose only voter is this node commits its leader's entries by writing them, so
 * RaftShardHost applies them as their log write is issued: the apply's queue-store
 * writes share the log write's LMDB transaction (one transaction per lone proposal, not
 * two), while proposers and reads still wait until that write is durable. Real LMDB
 * (one environment for the log and the queue state, as in the server); transactions are
 * counted with LMDB's own last transaction id.
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
import type { PersistBatch, ShardId as RaftShardId } from '../../src/raft/types.js';
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

let opened: { host: RaftShardHost; env: LmdbEnv; dir: string } | undefined;
let heldStore: HeldFlushLogStore | undefined;

afterEach(async () => {
  heldStore?.release();
  heldStore = undefined;
  if (opened === undefined) return;
  await opened.host.close();
  await opened.env.close();
  rmSync(opened.dir, { recursive: true, force: true });
  opened = undefined;
});

async function openSingleVoter(wrap: (store: LogStore) => LogStore = (store) => store): Promise<{ group: ShardGroup; fsm: QueueFsm; env: LmdbEnv }> {
  const dir = mkdtempSync(join(tmpdir(), 'zaqar-apply-ahead-'));
  const env = openLmdbEnv(dir);
  const host = new RaftShardHost({
    nodeId: 1 as NodeId,
    logStore: wrap(new LmdbLogStore(env)),
    transport: undefined,
    random: new SeededRandom(1),
    timers: new ManualTimers(),
    delays: new SystemDelays(),
    tickMs: 10,
  });
  opened = { host, env, dir };
  const fsm = new QueueFsm(shardId, new LmdbQueueStore(env));
  const group = host.addGroup(fsm, [1 as NodeId]);
  await waitFor('the group to elect itself', 5_000, () => (group.isLeader() ? true : undefined));
  await group.propose(encodeCommand({ ...base, type: 'createQueue', metadata: {} }));
  return { group, fsm, env };
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

/**
 * A replica whose stored log was damaged while it was down (a flipped byte in one entry,
 * written through a raw LMDB handle) restarts, drops the damaged suffix instead of
 * applying it, and is repaired from its peers over gRPC: in the end all three real node
 * processes have applied the same sequence, which holds every acknowledged proposal
 * with its original content. Were the damaged entry applied, the restarted node's
 * sequence would hold a different text at that position.
 */
import { expect, test } from 'vitest';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { entrySpans } from '../../src/log/lmdb/entry-codec.js';
import { logDbNames, runAtOrBefore } from '../../src/log/lmdb/log-dbs.js';
import {
  control,
  killHard,
  nodeConfig,
  peersOf,
  startNode,
  useProcessCluster,
  waitUntil,
  type GroupStatus,
  type RunningNode,
} from './process-cluster.js';

const voters = [1, 2, 3];
const cluster = useProcessCluster('zaqar-raft-damage-');
const { nodes } = cluster;

async function statusOf(node: RunningNode): Promise<GroupStatus | undefined> {
  return (await control<GroupStatus[]>(node, '/status')).body[0];
}

/** Proposes `count` texts through the leader, following leader hints; returns those acknowledged. */
async function propose(count: number, prefix: string): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let attempt = 0; acknowledged.length < count && attempt < count * 50; attempt++) {
    const live = [...nodes.values()];
    const statuses = await Promise.all(live.map((node) => statusOf(node).catch(() => undefined)));
    const leader = live.find((_, i) => statuses[i]?.role === 'leader');
    if (leader === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const text = `${prefix}-${attempt}`;
    const result = await control(leader, '/propose?shard=1', text).catch(() => undefined);
    if (result?.status === 200) acknowledged.push(text);
  }
  return acknowledged;
}

/** Flips the last byte (inside the data) of entry `index` (in its run) of group 1 in a stopped node's LMDB. */
async function flipStoredEntry(dataDir: string, index: number): Promise<void> {
  const env = openLmdbEnv(dataDir);
  try {
    const entries = env.openDB<Buffer, [number, number]>(logDbNames.entries, { encoding: 'binary' });
    const run = runAtOrBefore({ entries }, 1, index);
    const span = run === undefined ? undefined : entrySpans(run.value).find((s) => s.index === index);
    if (run === undefined || span === undefined) throw new Error(`entry ${index} is not stored`);
    const damaged = Buffer.from(run.value);
    damaged[span.end - 1] = (damaged[span.end - 1] ?? 0) ^ 0x01;
    await entries.put([1, run.first], damaged);
  } finally {
    await env.close();
  }
}

test('a replica with a damaged stored entry is repaired from its peers and never applies it', async () => {
  for (const id of voters) nodes.set(id, await startNode(nodeConfig(id, { root: cluster.root(), voters })));
  const peers = peersOf([...nodes.values()]);
  for (const node of nodes.values()) await control(node, '/connect', JSON.stringify({ peers }));
  const acknowledged = await propose(80, 'before');
  expect(acknowledged).toHaveLength(80);

  // Damage a follower that holds the entries: stop it hard, flip a byte, restart it.
  const statuses = await Promise.all([...nodes.values()].map(statusOf));
  const victim = [...nodes.values()].find((_, i) => statuses[i]?.role === 'follower' && (statuses[i]?.lastIndex ?? 0) >= 40);
  if (victim === undefined) throw new Error('no follower holding entry 40');
  await killHard(victim);
  nodes.delete(victim.id);
  const config = nodeConfig(victim.id, { root: cluster.root(), voters });
  await flipStoredEntry(config.dataDir, 40);
  acknowledged.push(...(await propose(20, 'while-down')));
  const restarted = await startNode({ ...config, raftPort: victim.raftPort, peers });
  nodes.set(restarted.id, restarted);
  acknowledged.push(...(await propose(20, 'after')));

  const lists = await waitUntil(async () => {
    const applied = await Promise.all([...nodes.values()].map(async (n) => (await control<string[]>(n, '/applied?shard=1')).body));
    const isComplete = applied.every((list) => list.length === applied[0]?.length && acknowledged.every((t) => list.includes(t)));
    return isComplete ? applied : undefined;
  }, 'all three replicas applied every acknowledged proposal');
  const [reference, ...others] = lists;
  for (const list of others) expect(list).toEqual(reference);
  const final = await statusOf(restarted);
  expect(final).toMatchObject({ isDamaged: false, isFailed: false });
}, 180_000);

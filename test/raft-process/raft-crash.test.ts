/**
 * Three real node processes (LMDB log store, gRPC transport on 127.0.0.1) replicate one
 * group while a client proposes continuously. The leader is killed with SIGKILL in the
 * middle; the test proves a new leader is elected in a later term, that the killed node
 * restarts from its LMDB log and catches up, and that every proposal acknowledged as
 * committed is applied, in the same order, on all three nodes.
 */
import { expect, test } from 'vitest';
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
const cluster = useProcessCluster('zaqar-raft-crash-');
const { nodes } = cluster;

async function leaderOf(candidates: readonly RunningNode[]): Promise<{ node: RunningNode; term: number } | undefined> {
  for (const node of candidates) {
    const { body } = await control<GroupStatus[]>(node, '/status');
    const status = body[0];
    if (status?.role === 'leader') return { node, term: status.term };
  }
  return undefined;
}

/** Proposes unique texts to whoever leads until `count` were acknowledged; returns them. */
async function proposeUntil(
  count: number,
  prefix: string,
  live: () => RunningNode[],
  onAcknowledged: (count: number) => void = () => {},
): Promise<string[]> {
  const acknowledged: string[] = [];
  let target = live()[0];
  for (let attempt = 0; acknowledged.length < count && attempt < count * 50; attempt++) {
    const text = `${prefix}-${attempt}`;
    const node = target ?? live()[attempt % live().length];
    if (node === undefined) break;
    const result = await control<{ index?: number; leaderHint?: number | null }>(node, '/propose?shard=1', text).catch(
      () => undefined,
    );
    if (result?.status === 200) {
      acknowledged.push(text);
      onAcknowledged(acknowledged.length);
      continue;
    }
    const hint = result?.body.leaderHint;
    target = hint === undefined || hint === null ? undefined : live().find((n) => n.id === hint);
    if (target === undefined) await new Promise((resolve) => setTimeout(resolve, 20)); // no leader yet
  }
  return acknowledged;
}

test('acknowledged proposals survive kill -9 of the leader and its restart', async () => {
  for (const id of voters) nodes.set(id, await startNode(nodeConfig(id, { root: cluster.root(), voters })));
  const peers = peersOf([...nodes.values()]);
  for (const node of nodes.values()) await control(node, '/connect', JSON.stringify({ peers }));
  const live = (): RunningNode[] => [...nodes.values()];

  const first = await waitUntil(() => leaderOf(live()), 'a first leader');
  const acknowledged: string[] = await proposeUntil(100, 'before', live);
  expect(acknowledged).toHaveLength(100);
  // The leader dies in the middle of a run of proposals (after its 20th acknowledgement).
  let killed: Promise<void> | undefined;
  acknowledged.push(
    ...(await proposeUntil(100, 'during', live, (count) => {
      if (count !== 20) return;
      killed = killHard(first.node);
      nodes.delete(first.node.id);
    })),
  );
  await killed;
  expect(killed).toBeDefined();

  const second = await waitUntil(async () => {
    const found = await leaderOf(live());
    return found !== undefined && found.term > first.term ? found : undefined;
  }, 'a new leader in a later term');
  expect(second.node.id).not.toBe(first.node.id);
  acknowledged.push(...(await proposeUntil(100, 'after', live)));

  const restartConfig = nodeConfig(first.node.id, { root: cluster.root(), voters });
  const restarted = await startNode({ ...restartConfig, raftPort: first.node.raftPort, peers });
  nodes.set(restarted.id, restarted);
  acknowledged.push(...(await proposeUntil(50, 'restarted', live)));
  expect(acknowledged.length).toBeGreaterThanOrEqual(300);

  const appliedEverywhere = await waitUntil(async () => {
    const lists = await Promise.all(live().map(async (node) => (await control<string[]>(node, '/applied?shard=1')).body));
    return lists.every((list) => list.length === lists[0]?.length && acknowledged.every((t) => list.includes(t)))
      ? lists
      : undefined;
  }, 'every acknowledged proposal applied on all three nodes');
  const [reference, ...others] = appliedEverywhere;
  for (const list of others) expect(list).toEqual(reference);
  expect(new Set(reference).size).toBe(reference?.length);
  const statuses = await Promise.all(live().map(async (node) => (await control<GroupStatus[]>(node, '/status')).body[0]));
  expect(statuses.every((s) => s?.isDamaged === false && s.isFailed === false)).toBe(true);
}, 180_000);

/**
 * Log compaction and snapshot install in a 3-node cluster (in process, real LMDB, real
 * timers, loopback Raft messages), with a small compaction policy so a few hundred
 * writes cross several snapshots:
 *  - under a steady load the leader's log stays within snapshotEveryEntries +
 *    tailEntriesMax (+ a little in flight);
 *  - a follower that was down while the leader compacted past its applied index comes
 *    back, is sent the leader's snapshot, installs it and applies the rest; every replica
 *    then holds identical shard state (stored records and claim index) and serves the
 *    same listings and stats through the broker;
 *  - a replica restarted after compacting its own log recovers from its snapshot;
 *  - a node added to the shard after its log was compacted (bootstrap entries gone) is
 *    brought up by the snapshot as a learner, promoted, and holds the same state.
 */
import { afterEach, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { dumpState } from '../engine/support/fsm-commands.js';
import { InProcessCluster, type InProcessNode, waitFor } from './support/in-process.js';

const shard = 0 as ShardId;
const policy = { snapshotEveryEntries: 40, tailEntriesMax: 20, snapshotEveryBytes: 64 * 1024 * 1024 };
/** Entries that may be appended but not yet compacted: proposals in flight, the leader's no-op. */
const inFlightSlack = 8;
const ref = { project: 'p', queue: 'q' };
const listOptions = { clientId: 'c', limit: 20, echo: true, includeClaimed: true, includeDelayed: true };
let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

function groupOf(node: InProcessNode): NonNullable<ReturnType<InProcessNode['logs']['group']>> {
  const group = node.logs.group(shard);
  if (group === undefined) throw new Error(`node ${node.id} does not host shard ${shard}`);
  return group;
}

function logLength(node: InProcessNode): number {
  const { log } = groupOf(node).core;
  return log.lastIndex() - log.firstIndex() + 1;
}

/** Posts `count` messages one at a time through `node`, checking its log length after each. */
async function postSteadily(node: InProcessNode, count: number, from: number): Promise<number> {
  let longest = 0;
  for (let i = 0; i < count; i++) {
    await node.broker.postMessages(ref, { clientId: 'c', messages: [{ body: { n: from + i }, ttlSeconds: 3600, delaySeconds: 0 }] });
    longest = Math.max(longest, logLength(node));
  }
  return longest;
}

async function dumpOf(node: InProcessNode): Promise<unknown> {
  const fsm = groupOf(node).fsm.fsm;
  await fsm.awaitCommitted();
  return dumpState(fsm);
}

test('a follower behind the compacted log catches up by snapshot and all replicas converge', async () => {
  const c = new InProcessCluster([1, 2, 3], 1, { compaction: policy });
  cluster = c;
  for (const id of [1, 2, 3]) await c.open(id);
  const leader = await waitFor('a leader', 10_000, () => c.leaderOf(shard));
  await leader.broker.createQueue(ref, { _max_claim_count: 3 });
  const longestWithAll = await postSteadily(leader, 120, 0);
  expect(longestWithAll).toBeLessThanOrEqual(policy.snapshotEveryEntries + policy.tailEntriesMax + inFlightSlack);
  expect(leader.logs.compactions(shard)).toBeGreaterThan(0);

  const lagging = [...c.nodes.values()].find((node) => node.id !== leader.id);
  if (lagging === undefined) throw new Error('no follower');
  const appliedWhenDown = groupOf(lagging).fsm.appliedIndex;
  const down = await c.close(lagging.id);
  if (down === undefined) throw new Error('follower was not open');

  const longestWithoutOne = await postSteadily(leader, 200, 120);
  expect(longestWithoutOne).toBeLessThanOrEqual(policy.snapshotEveryEntries + policy.tailEntriesMax + inFlightSlack);
  const claim = await leader.broker.createClaim(ref, { limit: 5, ttlSeconds: 300, graceSeconds: 60 });
  expect(claim?.messages).toHaveLength(5);
  expect(groupOf(leader).core.log.firstIndex()).toBeGreaterThan(appliedWhenDown + 1);

  const back = await c.open(lagging.id, down.dataDir);
  await waitFor('the follower to catch up', 20_000, () => {
    const target = groupOf(leader).fsm.appliedIndex;
    return [...c.nodes.values()].every((node) => groupOf(node).fsm.appliedIndex === target) ? true : undefined;
  });
  const installed = groupOf(back).core.log.storedSnapshot();
  expect(installed?.meta.index).toBeGreaterThan(appliedWhenDown);

  const reference = await dumpOf(leader);
  for (const node of c.nodes.values()) expect(await dumpOf(node)).toEqual(reference);
  const listing = await leader.broker.listMessages(ref, listOptions);
  const stats = await leader.broker.queueStats(ref);
  expect(stats.claimed).toBe(5);
  expect(stats.total).toBe(320);
  for (const node of c.nodes.values()) {
    expect(await node.broker.listMessages(ref, listOptions)).toEqual(listing);
    expect(await node.broker.queueStats(ref)).toEqual(stats);
  }

  // The caught-up follower keeps working from its snapshot after its own restart.
  const again = await c.close(back.id);
  if (again === undefined) throw new Error('follower was not open');
  const reopened = await c.open(back.id, again.dataDir);
  await postSteadily(leader, 10, 320);
  await waitFor('the restarted follower to apply', 20_000, () => (groupOf(reopened).fsm.appliedIndex === groupOf(leader).fsm.appliedIndex ? true : undefined));
  expect(await dumpOf(reopened)).toEqual(await dumpOf(leader));
});

test('a node added after the log was compacted is brought up by snapshot', async () => {
  const c = new InProcessCluster([1, 2, 3, 4], 1, { compaction: policy, initialMembers: [1, 2, 3] as NodeId[] });
  cluster = c;
  for (const id of [1, 2, 3]) await c.open(id);
  const leader = await waitFor('a leader', 10_000, () => c.leaderOf(shard));
  await leader.broker.createQueue(ref, {});
  await postSteadily(leader, 100, 0);
  expect(groupOf(leader).core.log.firstIndex()).toBeGreaterThan(policy.snapshotEveryEntries);

  const newcomer = await c.open(4);
  await leader.broker.changeMembership({ kind: 'add', nodeId: 4 as NodeId });
  expect(groupOf(leader).status().conf.voters).toContain(4);
  await postSteadily(leader, 5, 100);
  await waitFor('the new node to catch up', 20_000, () => (groupOf(newcomer).fsm.appliedIndex === groupOf(leader).fsm.appliedIndex ? true : undefined));
  expect(groupOf(newcomer).core.log.storedSnapshot()).toBeDefined();
  expect(await dumpOf(newcomer)).toEqual(await dumpOf(leader));
  expect(await newcomer.broker.listMessages(ref, listOptions)).toEqual(await leader.broker.listMessages(ref, listOptions));
});

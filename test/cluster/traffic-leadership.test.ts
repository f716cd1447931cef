/**
 * Leadership that follows the traffic (src/cluster/traffic-leadership.ts), on clustered
 * brokers: a shard whose commands all come through one follower moves to it and stays
 * there while they keep coming, although the balancer (every 100 ms here) hands every
 * shard to its preferred voter; once they stop, the balancer takes it back. Traffic
 * split between two followers moves nothing. Windows of 50 ms, so each load below spans
 * many windows and balancer passes.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { preferredLeader } from '../../src/cluster/placement.js';
import { InProcessCluster, waitFor, type InProcessNode } from './support/in-process.js';

const members = [1, 2, 3] as NodeId[];
const shardId = 0 as ShardId;
const ref = { project: 'p', queue: 'q' };
const followTraffic = { windowMs: 50, commandsMin: 4, moveShare: 0.8, holdShare: 0.5, lapseWindows: 6 };
/** How long each load runs: 20 windows and 10 balancer passes. */
const loadMs = 1_000;
let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

async function openSettled(): Promise<{ c: InProcessCluster; preferred: InProcessNode }> {
  const c = new InProcessCluster(members, 1, { followTraffic, balanceIntervalMs: 100 });
  cluster = c;
  for (const id of members) await c.open(id);
  const preferredId = preferredLeader(shardId, { voters: members, members });
  const preferred = await waitFor('the preferred voter to lead', 20_000, () => (c.leaderOf(shardId)?.id === preferredId ? c.leaderOf(shardId) : undefined));
  await preferred.broker.createQueue(ref, {});
  return { c, preferred };
}

function termOf(node: InProcessNode): number {
  return node.logs.group(shardId)?.status().term ?? -1;
}

/** Posts through `node`, one at a time, until `until` says stop; returns the ids posted. */
async function postThrough(node: InProcessNode, until: () => boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; !until() && i < 100_000; i++) {
    const posted = await node.broker.postMessages(ref, { clientId: `c${node.id}`, messages: [{ body: `n${node.id}-${i}`, ttlSeconds: 600, delaySeconds: 0 }] });
    ids.push(...posted.ids);
  }
  return ids;
}

function forMs(ms: number): () => boolean {
  const end = Date.now() + ms;
  return () => Date.now() >= end;
}

describe('leadership that follows the traffic', () => {
  test('moves to the follower a shard\'s commands come through, stays while they do, and returns to the preferred voter after', async () => {
    const { c, preferred } = await openSettled();
    const entry = [...c.nodes.values()].find((node) => node.id !== preferred.id);
    if (entry === undefined) throw new Error('no follower');

    const giveUp = forMs(20_000);
    const moving = await postThrough(entry, () => c.leaderOf(shardId)?.id === entry.id || giveUp());
    expect(c.leaderOf(shardId)?.id).toBe(entry.id);
    // Held by its traffic: the balancer's passes leave it (one term more at most, should a
    // slow turn of the machine cost an election).
    const term = termOf(entry);
    const held = await postThrough(entry, forMs(loadMs));
    expect(c.leaderOf(shardId)?.id).toBe(entry.id);
    expect(termOf(entry) - term).toBeLessThanOrEqual(1);

    await waitFor('the preferred voter to lead again', 20_000, () => (c.leaderOf(shardId)?.id === preferred.id ? true : undefined));
    const listed = await preferred.broker.listMessages(ref, { clientId: 'other', limit: 10_000, echo: true, includeClaimed: true, includeDelayed: true });
    expect(listed.map((m) => m.id)).toEqual([...moving, ...held]);
  });

  test('a node handing its leadership away to shut down does not draw it back with the requests it still takes', async () => {
    const { c, preferred } = await openSettled();
    const entry = [...c.nodes.values()].find((node) => node.id !== preferred.id);
    if (entry === undefined) throw new Error('no follower');
    const giveUp = forMs(20_000);
    await postThrough(entry, () => c.leaderOf(shardId)?.id === entry.id || giveUp());
    expect(c.leaderOf(shardId)?.id).toBe(entry.id);

    await entry.logs.transferLeadershipAway();
    // Its open sockets keep posting through it while it drains: 20 windows of them.
    const posted = await postThrough(entry, forMs(loadMs));
    expect(posted.length).toBeGreaterThan(2 * followTraffic.commandsMin);
    expect(c.leaderOf(shardId)?.id).not.toBe(entry.id);
  });

  test('traffic split between two followers leaves the leader where it is', async () => {
    const { c, preferred } = await openSettled();
    const term = termOf(preferred);
    const until = forMs(loadMs);
    const posted = await Promise.all([...c.nodes.values()].filter((node) => node.id !== preferred.id).map((node) => postThrough(node, until)));
    expect(posted.every((ids) => ids.length >= 2 * followTraffic.commandsMin)).toBe(true);
    expect(c.leaderOf(shardId)?.id).toBe(preferred.id);
    expect(termOf(preferred) - term).toBeLessThanOrEqual(1);
  });
});

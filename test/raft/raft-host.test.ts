/**
 * RaftHost and RaftNode over a MemoryNetwork and MemoryLogStores, driven by hand (no
 * timers): what the cluster layer relies on. Proposals resolve once applied, refusals are
 * typed RaftErrors, a storage error stops only the failing group, reads are
 * linearizable, membership and leadership move on request.
 */
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/common/random.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import { MemoryNetwork } from '../../src/raft/memory/memory-network.js';
import type { RaftNode } from '../../src/raft/node.js';
import { RaftError } from '../../src/raft/raft-error.js';
import { RaftHost } from '../../src/raft/raft-host.js';
import type { NodeId, ShardId } from '../../src/raft/types.js';
import { encodeValue, ListFsm } from '../sim/list-fsm.js';

const shards = [1, 2] as ShardId[];

class Cluster {
  readonly network = new MemoryNetwork({ random: new SeededRandom(7) });
  readonly hosts = new Map<NodeId, RaftHost>();
  readonly stores = new Map<NodeId, MemoryLogStore>();
  readonly fsms = new Map<string, ListFsm>();

  constructor(ids: readonly number[], options: { proposalsPendingMax?: number } = {}) {
    for (const raw of ids) this.addHost(raw as NodeId, ids as NodeId[], shards, options);
  }

  addHost(id: NodeId, peers: readonly NodeId[], shardIds: readonly ShardId[], options: { proposalsPendingMax?: number } = {}): RaftHost {
    const store = new MemoryLogStore();
    const host = new RaftHost({
      nodeId: id,
      store,
      transport: this.network.transport(id),
      random: new SeededRandom(id),
      raft: { proposalsPendingMax: options.proposalsPendingMax ?? 4096 },
    });
    for (const shardId of shardIds) {
      const fsm = new ListFsm(
        () => undefined,
        () => undefined,
      );
      this.fsms.set(`${id}/${shardId}`, fsm);
      host.addGroup({ shardId, peers, fsm });
    }
    this.hosts.set(id, host);
    this.stores.set(id, store);
    return host;
  }

  group(id: number, shardId: number): RaftNode {
    const group = this.hosts.get(id as NodeId)?.group(shardId as ShardId);
    if (group === undefined) throw new Error(`no group ${shardId} on ${id}`);
    return group;
  }

  values(id: number, shardId: number): string[] {
    return this.fsms.get(`${id}/${shardId}`)?.values ?? [];
  }

  leader(shardId: number): RaftNode | undefined {
    for (const host of this.hosts.values()) {
      const group = host.group(shardId as ShardId);
      if (group?.status().role === 'leader') return group;
    }
    return undefined;
  }

  /** Rounds of deliver-everything then tick-everyone until `done()`; fails after `roundsMax`. */
  async runUntil(done: () => boolean, roundsMax = 500): Promise<void> {
    for (let round = 0; round < roundsMax; round++) {
      if (done()) return;
      this.network.deliverAll(this.network.inFlightCount());
      await settle();
      for (const host of this.hosts.values()) host.tick();
      await settle();
    }
    throw new Error('condition not reached');
  }

  async electLeaders(): Promise<void> {
    await this.runUntil(() => shards.every((shardId) => this.leader(shardId) !== undefined));
  }

  /** Delivers messages (without ticking) until `promise` settles. */
  async settleWith<T>(promise: Promise<T>): Promise<T> {
    let isDone = false;
    const watched = promise.finally(() => (isDone = true));
    await this.runUntil(() => isDone);
    return watched;
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function leaderOf(cluster: Cluster, shardId: number): RaftNode {
  const leader = cluster.leader(shardId);
  if (leader === undefined) throw new Error(`shard ${shardId} has no leader`);
  return leader;
}

describe('RaftHost', () => {
  test('elects a leader per shard and applies a burst of proposals everywhere, in order', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 1);
    const proposals = Array.from({ length: 50 }, (_, i) => leader.propose(encodeValue(`v${i}`)));
    const results = await cluster.settleWith(Promise.all(proposals));
    const indices = results.map((r) => r.index);
    expect(indices).toEqual(indices.map((_, i) => (indices[0] ?? 0) + i));
    await cluster.runUntil(() => [1, 2, 3].every((id) => cluster.values(id, 1).length === 50));
    for (const id of [1, 2, 3]) expect(cluster.values(id, 1)).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    expect(cluster.values(1, 2)).toEqual([]);
  });

  test('refuses proposals on a follower with not_leader and the leader as hint', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 2);
    await cluster.runUntil(() => [1, 2, 3].every((id) => cluster.group(id, 2).status().leader === leader.nodeId));
    const followerId = [1, 2, 3].find((id) => id !== leader.nodeId) ?? 0;
    const refusal = await cluster.group(followerId, 2).propose(encodeValue('x')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RaftError);
    expect(refusal).toMatchObject({ reason: 'not_leader', leaderHint: leader.nodeId });
  });

  test('refuses proposals beyond proposalsPendingMax as overloaded while nothing commits', async () => {
    const cluster = new Cluster([1, 2, 3], { proposalsPendingMax: 8 });
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 1);
    const others = [1, 2, 3].filter((id) => id !== leader.nodeId) as NodeId[];
    cluster.network.partition([leader.nodeId], others);
    const outcomes = Array.from({ length: 20 }, (_, i) => leader.propose(encodeValue(`p${i}`)).catch((error: unknown) => error));
    for (let i = 0; i < 5; i++) {
      cluster.network.deliverAll();
      await settle();
    }
    const refused = (await Promise.race([Promise.all(outcomes.slice(8)), settle().then(() => [])])) as unknown[];
    expect(refused).toHaveLength(12);
    for (const error of refused) expect(error).toMatchObject({ reason: 'overloaded' });
  });

  test('a storage error stops only the failing group; the others elect a new leader', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 1);
    const store = cluster.stores.get(leader.nodeId);
    if (store === undefined) throw new Error('no store');
    store.isFailing = true;
    const refusal = await leader.propose(encodeValue('lost')).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ reason: 'failed' });
    expect(leader.status().isFailed).toBe(true);
    await cluster.runUntil(() => {
      const next = cluster.leader(1);
      return next !== undefined && next.nodeId !== leader.nodeId;
    });
    const after = await leader.propose(encodeValue('later')).catch((error: unknown) => error);
    expect(after).toMatchObject({ reason: 'failed' });
  });

  test('readIndex resolves on leader and follower after earlier writes are applied there', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 1);
    await cluster.settleWith(leader.propose(encodeValue('w1')));
    const followerId = [1, 2, 3].find((id) => id !== leader.nodeId) ?? 0;
    await cluster.runUntil(() => cluster.group(followerId, 1).status().leader === leader.nodeId);
    await cluster.settleWith(leader.readIndex());
    await cluster.settleWith(cluster.group(followerId, 1).readIndex());
    expect(cluster.values(followerId, 1)).toContain('w1');
  });

  test('adds a learner, promotes it once caught up, and removes a voter', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 1);
    await cluster.settleWith(leader.propose(encodeValue('before')));
    cluster.addHost(4 as NodeId, [], [1 as ShardId]);
    await cluster.settleWith(leader.addLearner(4 as NodeId));
    await cluster.runUntil(() => cluster.values(4, 1).includes('before'));
    await cluster.settleWith(leader.promote(4 as NodeId));
    const victim = ([1, 2, 3].find((id) => id !== leader.nodeId) ?? 0) as NodeId;
    await cluster.settleWith(leader.removeNode(victim));
    expect(leader.status().conf.voters).toEqual(expect.arrayContaining([4]));
    expect(leader.status().conf.voters).not.toContain(victim);
    expect(leader.status().conf.voters).toHaveLength(3);
  });

  test('reports each group for metrics and counts leader changes and refusals', async () => {
    const events: string[] = [];
    const metrics = { leaderChanged: (shardId: ShardId) => events.push(`leader ${shardId}`), proposalRejected: (shardId: ShardId, reason: string) => events.push(`${reason} ${shardId}`) };
    const network = new MemoryNetwork({ random: new SeededRandom(3) });
    const host = new RaftHost({ nodeId: 1 as NodeId, store: new MemoryLogStore(), transport: network.transport(1 as NodeId), random: new SeededRandom(1), metrics });
    const group = host.addGroup({ shardId: 5 as ShardId, peers: [1 as NodeId, 2 as NodeId], fsm: new ListFsm(() => undefined, () => undefined) });
    await settle();
    await group.propose(encodeValue('x')).catch(() => undefined);
    expect(events).toContain('not_leader 5');
    for (let i = 0; i < 40 && group.status().role === 'follower'; i++) {
      host.tick();
      await settle();
    }
    expect(host.reports()).toEqual([expect.objectContaining({ shardId: 5, hasLeader: false, role: expect.stringMatching(/candidate/) })]);
    await host.stop();
  });

  test('transferLeadership hands the group to the named voter', async () => {
    const cluster = new Cluster([1, 2, 3]);
    await cluster.electLeaders();
    const leader = leaderOf(cluster, 2);
    const target = ([1, 2, 3].find((id) => id !== leader.nodeId) ?? 0) as NodeId;
    await cluster.settleWith(leader.transferLeadership(target));
    await cluster.runUntil(() => cluster.leader(2)?.nodeId === target);
    const refusal = await leader.transferLeadership(4 as NodeId).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ reason: 'not_leader' });
  });
});

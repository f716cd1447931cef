/**
 * RoutedShardLog while a shard's leadership moves: a proposal that finds no leader waits
 * for the local replica to see one and goes on then, not only when its retry pause ends;
 * and during a transfer, where the leader names the transferee and the transferee names
 * the leader until its election, the proposal does not bounce between the two. The retry
 * timer here never fires, so a proposal left to it would never finish; the replica is a
 * scripted stand-in for a ShardGroup and the forwarder one for gRPC.
 */
import { describe, expect, test } from 'vitest';
import { SystemClock } from '../common/clock.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { Delays } from '../common/timers.js';
import type { ForwardReply, Forwarder } from './forward-protocol.js';
import { RoutedShardLog } from './routed-shard-log.js';
import { NotLeaderError } from './routing-errors.js';
import type { ShardGroup } from './shard-group.js';
import { ShardReplicaView } from './shard-replica-view.js';
import type { AnyCommandResult } from './shard/results.js';

const shardId = 3 as ShardId;
const self = 1 as NodeId;
const other = 2 as NodeId;
const created = { created: true } as unknown as AnyCommandResult;
const command = { type: 'createQueue', nowMs: 1_000, project: 'p', queue: 'q', metadata: {} } as const;

/** Timers that never fire (cancelling works): only a leader change can end a pause. */
const stalledDelays: Delays = { after: () => () => undefined };

/** A local replica whose leader the test sets; it accepts proposals while it leads. */
class ScriptedReplica {
  leaderId: NodeId | undefined;
  proposals = 0;
  private readonly watchers = new Set<() => void>();
  failure: unknown = undefined;

  constructor(leaderId: NodeId | undefined) {
    this.leaderId = leaderId;
  }

  leader(): NodeId | undefined {
    return this.leaderId;
  }

  propose(): Promise<AnyCommandResult | undefined> {
    this.proposals++;
    if (this.leaderId === self) return Promise.resolve(created);
    return Promise.reject(new NotLeaderError(shardId, this.leaderId));
  }

  onLeaderChange(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  changeLeader(leaderId: NodeId | undefined): void {
    this.leaderId = leaderId;
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) watcher();
  }
}

function logOn(replica: ScriptedReplica, forwarder: Forwarder): RoutedShardLog {
  return new RoutedShardLog(shardId, () => replica as unknown as ShardGroup, new ShardReplicaView([self, other], [self, other]), {
    nodeId: self, forwarder, clock: new SystemClock(), delays: stalledDelays, routeWaitMs: 60_000, retryMs: 50, unreachableWaitMs: 60_000,
  });
}

/** Whether `promise` settled within a few event-loop turns. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let isSettled = false;
  void promise.then(() => { isSettled = true; }, () => { isSettled = true; });
  for (let turn = 0; turn < 20 && !isSettled; turn++) await new Promise((resolve) => setImmediate(resolve));
  return isSettled;
}

describe('RoutedShardLog while leadership moves', () => {
  test('a proposal that found no leader goes on as soon as the local replica sees one', async () => {
    const replica = new ScriptedReplica(undefined);
    const forwarder: Forwarder = { forward: () => Promise.reject(new Error('nothing is forwarded here')), close: () => undefined };
    const proposing = logOn(replica, forwarder).propose(command);
    expect(await settlesSoon(proposing)).toBe(false);
    replica.changeLeader(self);
    expect(await settlesSoon(proposing)).toBe(true);
    expect(await proposing).toBe(created);
  });

  test('during a transfer to this node it waits for the election instead of bouncing between leader and transferee', async () => {
    // The leader (node 2) names this node, the transferee; this node's replica still names node 2.
    const replica = new ScriptedReplica(other);
    let forwards = 0;
    const forwarder: Forwarder = {
      forward: async (): Promise<ForwardReply> => {
        forwards++;
        await new Promise((resolve) => setImmediate(resolve));
        return { kind: 'not_leader', leaderHint: self };
      },
      close: () => undefined,
    };
    const proposing = logOn(replica, forwarder).propose(command);
    expect(await settlesSoon(proposing)).toBe(false);
    expect(forwards).toBe(1);
    expect(replica.proposals).toBe(1);
    replica.changeLeader(undefined);
    expect(await settlesSoon(proposing)).toBe(false);
    replica.changeLeader(self);
    expect(await settlesSoon(proposing)).toBe(true);
    expect(await proposing).toBe(created);
    expect(forwards).toBe(1);
  });
});

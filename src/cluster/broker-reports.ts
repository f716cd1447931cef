/**
 * What the broker reports about the shards held here: message counts and Raft position
 * (metrics), and whether the node may take traffic (readiness). Each report reads the
 * log source's own answer when it has one.
 */
import type { ShardId } from '../common/ids.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import type { BrokerShard } from './broker-shard.js';
import type { ShardReport } from './metrics.js';
import type { ShardLogSource } from './shard-log-source.js';
import { LocalLog } from './shard/local-shard-log.js';

/** Message depth and claimed count of each of `hosted`, from the in-memory index (metrics). */
export function shardReports(hosted: readonly [ShardId, BrokerShard][]): ShardReport[] {
  return hosted.map(([shardId, shard]) => {
    const counts = shard.fsm.index.messageCounts();
    return { shardId, messages: counts.messages, claimedMessages: counts.claimed };
  });
}

/**
 * Raft position of every shard held here, from the log source; the node-local LocalLog
 * (no Raft) leads all of its shards at a constant term. Another source without
 * reports reports nothing rather than a made-up position.
 */
export function raftReports(source: ShardLogSource, shards: ReadonlyMap<ShardId, BrokerShard>): readonly RaftGroupReport[] {
  const fromSource = source.raftReports?.();
  if (fromSource !== undefined) return fromSource;
  if (!(source instanceof LocalLog)) return [];
  return [...shards.entries()].map(([shardId, shard]) => ({
    shardId, role: 'leader', term: 1, hasLeader: true, commitIndex: shard.fsm.appliedIndex, appliedIndex: shard.fsm.appliedIndex,
    followerLag: new Map(),
  }));
}

/** The shards led here: the source's own answer when it has one, else from the reports. */
export function ledShards(source: ShardLogSource, shards: ReadonlyMap<ShardId, BrokerShard>): ShardId[] {
  return source.ledShards?.() ?? raftReports(source, shards).filter((r) => r.role === 'leader').map((r) => r.shardId);
}

/** Every shard held here has a leader and has applied all it knows committed (the source's own answer when it has one). */
export function isCaughtUp(source: ShardLogSource, shards: ReadonlyMap<ShardId, BrokerShard>): boolean {
  const fromSource = source.isCaughtUp?.();
  if (fromSource !== undefined) return fromSource;
  return raftReports(source, shards).every((group) => group.hasLeader && group.appliedIndex >= group.commitIndex);
}

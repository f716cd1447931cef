/**
 * NodeMetrics on a fresh Registry per test: each layer's named events become the
 * documented series, sampled gauges are rebuilt on every scrape (a shard that went away
 * disappears), the Raft role is one-hot, and no label carries unbounded input.
 */
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import type { ShardReport } from '../cluster/metrics.js';
import type { NodeId, ShardId } from '../common/ids.js';
import type { RaftGroupReport } from '../raft/metrics.js';
import { NodeMetrics } from './node-metrics.js';

const shard = (n: number): ShardId => n as ShardId;

function fresh(): { metrics: NodeMetrics; text: () => Promise<string> } {
  const metrics = new NodeMetrics(new Registry(), { processMetrics: false });
  return { metrics, text: async () => (await metrics.exposition()).text };
}

describe('NodeMetrics', () => {
  test('counts HTTP and WebSocket requests by route template and action', async () => {
    const { metrics, text } = fresh();
    metrics.transport.httpRequest({ route: '/v2/queues/{queue_name}', method: 'PUT', status: 201, seconds: 0.003 });
    metrics.transport.httpRequest({ route: '/v2/queues/{queue_name}', method: 'PUT', status: 201, seconds: 0.2 });
    metrics.transport.wsRequest({ action: 'message_post', status: 201, seconds: 0.01 });
    metrics.transport.wsSessionOpened();
    const out = await text();
    expect(out).toContain('zaqar_transport_http_requests_total{route="/v2/queues/{queue_name}",method="PUT",status="201"} 2');
    expect(out).toContain('zaqar_transport_http_request_duration_seconds_bucket{le="0.005",route="/v2/queues/{queue_name}",method="PUT"} 1');
    expect(out).toContain('zaqar_transport_http_request_duration_seconds_count{route="/v2/queues/{queue_name}",method="PUT"} 2');
    expect(out).toContain('zaqar_transport_ws_requests_total{action="message_post",status="201"} 1');
    expect(out).toContain('zaqar_transport_ws_sessions 1');
  });

  test('counts message traffic, expiry, dead-lettering and rejections', async () => {
    const { metrics, text } = fresh();
    metrics.api.messagesPosted(3);
    metrics.api.messagesClaimed(2);
    metrics.api.messagesDeleted(1);
    metrics.cluster.messagesExpired(shard(2), 4);
    metrics.cluster.messagesDeadLettered(shard(2), 1);
    metrics.raft.leaderChanged(shard(1));
    metrics.raft.proposalRejected(shard(1), 'not_leader');
    metrics.notifications.deliveryFailed('https');
    metrics.notifications.backlog(7);
    const out = await text();
    for (const line of [
      'zaqar_api_messages_posted_total 3',
      'zaqar_api_messages_claimed_total 2',
      'zaqar_api_messages_deleted_total 1',
      'zaqar_cluster_messages_expired_total{shard="2"} 4',
      'zaqar_cluster_messages_dead_lettered_total{shard="2"} 1',
      'zaqar_raft_leader_changes_total{shard="1"} 1',
      'zaqar_raft_proposals_rejected_total{shard="1",reason="not_leader"} 1',
      'zaqar_notification_failures_total{kind="https"} 1',
      'zaqar_notification_backlog 7',
    ]) expect(out).toContain(line);
  });

  test('samples shard depth and Raft positions at scrape time; a shard that went away disappears', async () => {
    const { metrics, text } = fresh();
    let shards: ShardReport[] = [{ shardId: shard(0), messages: 10, claimedMessages: 4 }, { shardId: shard(1), messages: 1, claimedMessages: 0 }];
    const leader: RaftGroupReport = {
      shardId: shard(0), role: 'leader', term: 5, hasLeader: true, commitIndex: 40, appliedIndex: 39,
      followerLag: new Map([[2 as NodeId, 0], [3 as NodeId, 12]]),
    };
    metrics.observe({ shards: () => shards, raftGroups: () => [leader], storeBytes: () => 4096 });
    let out = await text();
    expect(out).toContain('zaqar_cluster_shard_messages{shard="1"} 1');
    expect(out).toContain('zaqar_cluster_shard_claimed_messages{shard="0"} 4');
    expect(out).toContain('zaqar_raft_role{shard="0",role="leader"} 1');
    expect(out).toContain('zaqar_raft_role{shard="0",role="follower"} 0');
    expect(out).toContain('zaqar_raft_has_leader{shard="0"} 1');
    expect(out).toContain('zaqar_raft_term{shard="0"} 5');
    expect(out).toContain('zaqar_raft_commit_index{shard="0"} 40');
    expect(out).toContain('zaqar_raft_applied_index{shard="0"} 39');
    expect(out).toContain('zaqar_raft_follower_lag_entries{shard="0",follower="3"} 12');
    expect(out).toContain('zaqar_log_store_bytes 4096');
    shards = [{ shardId: shard(0), messages: 9, claimedMessages: 4 }];
    out = await text();
    expect(out).toContain('zaqar_cluster_shard_messages{shard="0"} 9');
    expect(out).not.toContain('zaqar_cluster_shard_messages{shard="1"}');
  });

  test('times log persists into the flush histogram and counts their bytes', async () => {
    const { metrics, text } = fresh();
    metrics.log.persisted({ seconds: 0.0004, bytes: 300 });
    metrics.log.persistFailed();
    const out = await text();
    expect(out).toContain('zaqar_log_flush_duration_seconds_bucket{le="0.0005"} 1');
    expect(out).toContain('zaqar_log_flush_duration_seconds_count 1');
    expect(out).toContain('zaqar_log_persisted_bytes_total 300');
    expect(out).toContain('zaqar_log_persist_failures_total 1');
  });

  test('process metrics come from collectDefaultMetrics on the same registry', async () => {
    const metrics = new NodeMetrics(new Registry());
    const out = (await metrics.exposition()).text;
    expect(out).toContain('nodejs_eventloop_lag_seconds');
    expect(out).toContain('nodejs_heap_size_used_bytes');
  });
});

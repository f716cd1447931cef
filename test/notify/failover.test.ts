/**
 * Notification delivery through a leader failure in a 3-node cluster of real
 * `zaqar-ts serve` processes (one shard, so the queue's shard leader is the deliverer).
 * A slow webhook receiver keeps a delivery in flight; the leader is killed with kill -9
 * mid-delivery. Proves that every posted message still reaches the receiver (the new
 * leader resumes from the cursor recorded in the log) and that re-sent messages are only
 * the few in flight or unacknowledged at the kill (one delivery line per subscription).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { waitFor, WebhookReceiver } from './support/receivers.js';

const shardId = 0;

describe('notifications through a kill -9 of the shard leader', () => {
  let cluster: ClusterLauncher;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    cluster = await ClusterLauncher.start({ nodes: 3, shards: 1 });
    await cluster.leaderOf(shardId);
  });

  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  test('every message posted is notified after the leader dies mid-delivery', async () => {
    // Every node routes the API to the shard leader, so the requests can go through any node.
    const zaqar = new ZaqarHttp(cluster.node(1).url);
    receiver.answer('/slow', () => ({ status: 200, delayMs: 100 }));
    const created = await zaqar.post('/v2/queues/alerts/subscriptions', { json: { subscriber: `${receiver.url}/slow` } });
    expect(created.status).toBe(201);
    const count = 40;
    for (let i = 0; i < count; i += 10) {
      await zaqar.postMessages('alerts', Array.from({ length: 10 }, (_, j) => ({ body: { n: i + j } })));
    }
    await waitFor('deliveries to start', () => receiver.to('/slow').length >= 5);
    // The deliverer is whichever node leads the shard now, read right before the kill.
    const leader = await cluster.leaderOf(shardId);
    await cluster.node(leader).crash();
    const deliveredAtKill = receiver.to('/slow').length;
    expect(deliveredAtKill).toBeLessThan(count);
    const seen = (): Set<number> => new Set(receiver.to('/slow').map((r) => (JSON.parse(r.text) as { body: { n: number } }).body.n));
    await waitFor('every message notified by the new leader', () => seen().size === count, 90_000);
    expect([...seen()].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, n) => n));
    // At least once: re-sent messages are the ones in flight or unacknowledged at the kill, not the whole queue.
    expect(receiver.to('/slow').length - count).toBeLessThan(5);
    await cluster.node(leader).start();
  });
});

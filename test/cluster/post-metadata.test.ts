/**
 * A change of queue metadata is honoured by the very next post, whichever node either
 * goes through: real `zaqar-ts serve` processes, a 3-node cluster (every node holds a
 * replica) and a 4-node cluster with 3 replicas per shard (the posting node holds none).
 * Each round replaces `_max_messages_post_size` and `_default_message_ttl` through one
 * node and at once posts a message without a ttl through another: the post must be
 * rejected exactly when the new size cap is below its size, and otherwise get the new
 * default ttl. A follower's replica usually applies the change a moment after the leader
 * acknowledged it, so posts validated against a replica's (or a remembered) state must
 * be caught by the shard's check; the rounds alternate the values so a missed change
 * shows as a wrong status or ttl.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterLauncher } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { shardOf } from './support/load.js';

const shardCount = 2;
const rounds = 12;
const patchType = { 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' };
/** A post body of ~530 bytes: over the small cap, under the large one. */
const body = 'x'.repeat(500);
const smallCapBytes = 200;
const largeCapBytes = 4000;

async function setPostMetadata(zaqar: ZaqarHttp, queue: string, values: { capBytes: number; ttlSeconds: number }): Promise<void> {
  const reply = await zaqar.patch(`/v2/queues/${queue}`, {
    json: [
      { op: 'replace', path: '/metadata/_max_messages_post_size', value: values.capBytes },
      { op: 'replace', path: '/metadata/_default_message_ttl', value: values.ttlSeconds },
    ],
    headers: patchType,
  });
  expect(reply.status, reply.text).toBe(200);
}

/** Rounds of: change the metadata through `setVia(round)`, post at once through `postVia(round)`. */
async function changeThenPost(
  cluster: ClusterLauncher,
  options: { project: string; queue: string; setVia: (round: number) => number; postVia: (round: number) => number },
): Promise<void> {
  const { project, queue } = options;
  const clients = new Map(cluster.running().map((node) => [node.id, new ZaqarHttp(node.url, project)]));
  const client = (id: number): ZaqarHttp => {
    const found = clients.get(id);
    if (found === undefined) throw new Error(`node ${id} is not running`);
    return found;
  };
  expect((await client(options.setVia(0)).put(`/v2/queues/${queue}`)).status).toBe(201);
  for (let round = 0; round < rounds; round++) {
    const values = { capBytes: round % 2 === 0 ? smallCapBytes : largeCapBytes, ttlSeconds: 120 + round * 60 };
    await setPostMetadata(client(options.setVia(round)), queue, values);
    const poster = client(options.postVia(round));
    const posted = await poster.post(`/v2/queues/${queue}/messages`, { json: { messages: [{ body }] } });
    const what = `round ${round}: cap ${values.capBytes} set through node ${options.setVia(round)}, post through node ${options.postVia(round)}`;
    if (values.capBytes === smallCapBytes) {
      expect(posted.status, what).toBe(400);
      expect(posted.text, what).toContain(`The max size for current queue is ${smallCapBytes}`);
      continue;
    }
    expect(posted.status, `${what}: ${posted.text}`).toBe(201);
    const href = (posted.body as { resources: string[] }).resources[0] ?? '';
    const message = await poster.get(href);
    expect((message.body as { ttl: number }).ttl, what).toBe(values.ttlSeconds);
  }
}

/** Starts the cluster before the suite's tests (waiting for every shard's leader) and stops it after; returns it. */
function clusterForSuite(options: { nodes: number; shards: number; replicas?: number }): () => ClusterLauncher {
  let cluster: ClusterLauncher | undefined;
  beforeAll(async () => {
    cluster = await ClusterLauncher.start(options);
    const started = cluster;
    await ClusterLauncher.waitFor('a leader for every shard', 30_000, async () => ((await started.leaders())?.size === options.shards ? true : undefined));
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
}

describe('3 nodes: metadata changed on one node, post through another', () => {
  const cluster = clusterForSuite({ nodes: 3, shards: shardCount });

  test('the next post through a follower or the leader uses the new size cap and default ttl', { timeout: 120_000 }, async () => {
    // Node ids 1..3; every (setter, poster) pair with setter != poster comes up, twice.
    await changeThenPost(cluster(), {
      project: `p-${randomUUID()}`,
      queue: 'meta-then-post',
      setVia: (round) => (round % 3) + 1,
      postVia: (round) => ((round % 3) + 1 + (Math.floor(round / 3) % 2)) % 3 + 1,
    });
  });
});

describe('4 nodes, 3 replicas: post through the node without a replica of the queue', () => {
  const cluster = clusterForSuite({ nodes: 4, shards: 4, replicas: 3 });

  test('the node remembering older metadata still honours the change', { timeout: 120_000 }, async () => {
    const report = await cluster().status(1);
    const hosted = new Set(report.shards.map((s) => s.shardId));
    const remote = [0, 1, 2, 3].find((shardId) => !hosted.has(shardId));
    if (remote === undefined) throw new Error('node 1 hosts every shard');
    const project = `p-${randomUUID()}`;
    let queue = '';
    for (let i = 0; queue === ''; i++) if (shardOf(project, `q-${i}`, 4) === remote) queue = `q-${i}`;
    // Node 1 first reads the metadata with the barrier and then remembers it.
    await changeThenPost(cluster(), { project, queue, setVia: (round) => (round % 3) + 2, postVia: () => 1 });
  });
});

/**
 * The persisted cluster address book, with real processes: nodes 1-3 start with `--peers`
 * of each other only and node 4 with `--join` of node 1 (no one's flags name it). Node 4
 * is added through node 2 with its address in the body; it then hosts shard replicas and
 * is connected to every node. Nodes 1-3 are restarted one by one with their original
 * flags while node 4 keeps serving; then, with node 4 stopped, all of 1-3 restart and
 * still list node 4 at its address (only their LMDB books can have it), and reach it once
 * it is back. Finally node 4 is removed and its entry disappears from every book, also
 * after a restart. The add goes through `zaqar-ts cluster add 4 --address ...`; the 400s
 * of a PUT with a malformed or missing address are checked too.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminHeaders, ClusterLauncher, type ClusterReport } from '../support/cluster-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';

const shardCount = 4;
const waitMs = 60_000;
const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** Runs `zaqar-ts cluster ...` (the operator's command) and resolves with its exit code and output. */
function runCluster(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'cluster', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('nodes added through the API are known to every node, also after restarts', () => {
  let cluster: ClusterLauncher;

  beforeAll(async () => {
    cluster = await ClusterLauncher.start({ nodes: 4, shards: shardCount, joinNodes: [4], startNodes: [1, 2, 3] });
    await ClusterLauncher.waitFor('a leader for every shard', waitMs, async () => ((await cluster.leaders())?.size === shardCount ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  async function putNode(via: number, nodeId: number, body?: unknown): Promise<{ status: number; text: string }> {
    const response = await fetch(`${cluster.node(via).url}/v2/cluster/nodes/${nodeId}`, {
      method: 'PUT',
      headers: body === undefined ? adminHeaders : { ...adminHeaders, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(180_000),
    });
    return { status: response.status, text: await response.text() };
  }

  /** Node `id`'s book entry for `peer` as GET /v2/cluster shows it. */
  async function peerOf(id: number, peer: number): Promise<ClusterReport['peers'][number] | undefined> {
    return (await cluster.status(id)).peers.find((entry) => entry.nodeId === peer);
  }

  async function waitConnected(what: string, pairs: readonly (readonly [number, number])[]): Promise<void> {
    await ClusterLauncher.waitFor(what, waitMs, async () => {
      for (const [from, to] of pairs) if ((await peerOf(from, to))?.isConnected !== true) return undefined;
      return true;
    });
  }

  const withFour = [[1, 4], [2, 4], [3, 4], [4, 1], [4, 2], [4, 3]] as const;

  test('join, add, restarts and removal', { timeout: 600_000 }, async () => {
    const four = cluster.node(4);
    expect((await putNode(2, 5)).status).toBe(400);
    const malformed = await putNode(2, 4, { address: 'not an address' });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text)).toMatchObject({ title: 'Invalid request body' });

    const producer = new ZaqarHttp(cluster.node(1).url);
    expect((await producer.call('POST', '/v2/queues/books/messages', { json: { messages: [{ body: 'before', ttl: 3600 }] } })).status).toBe(201);

    await four.start();
    const added = await runCluster(['add', '4', '--address', four.clusterAddress, '--url', cluster.node(2).url]);
    expect(added, added.output).toMatchObject({ code: 0 });
    await ClusterLauncher.waitFor('node 4 to host a shard replica', waitMs, async () => ((await cluster.status(4)).shards.some((shard) => shard.voters.includes(4)) ? true : undefined));
    await waitConnected('node 4 and nodes 1-3 to be connected', withFour);
    for (const id of [1, 2, 3]) expect((await peerOf(id, 4))?.address).toBe(four.clusterAddress);

    // Rolling restart with the original flags (which do not name node 4) while node 4 serves.
    const throughFour = new ZaqarHttp(four.url, producer.project, producer.clientId);
    for (const id of [1, 2, 3]) {
      await cluster.node(id).stop();
      await cluster.node(id).start();
      await waitConnected(`restarted node ${id} and node 4 to be connected`, [[id, 4], [4, id]]);
      await ClusterLauncher.waitFor(`a post through node 4 after node ${id} restarted`, waitMs, async () => {
        const posted = await throughFour.call('POST', '/v2/queues/books/messages', { json: { messages: [{ body: `after ${id}`, ttl: 3600 }] } });
        return posted.status === 201 ? true : undefined;
      });
    }

    // Only the persisted books can name node 4 now: it is down and in no one's flags.
    await four.stop();
    await Promise.all([1, 2, 3].map((id) => cluster.node(id).stop()));
    await Promise.all([1, 2, 3].map((id) => cluster.node(id).start()));
    for (const id of [1, 2, 3]) expect((await peerOf(id, 4))?.address).toBe(four.clusterAddress);
    await four.start();
    await waitConnected('every node to reach node 4 after the full restart', withFour);
    await ClusterLauncher.waitFor('node 4 to list every message posted', waitMs, async () => {
      const listed = await throughFour.call('GET', '/v2/queues/books/messages?echo=true&limit=10');
      const bodies = ((listed.body as { messages?: { body: unknown }[] } | undefined)?.messages ?? []).map((message) => message.body);
      return ['before', 'after 1', 'after 2', 'after 3'].every((body) => bodies.includes(body)) ? true : undefined;
    });

    const removed = await fetch(`${cluster.node(3).url}/v2/cluster/nodes/4`, { method: 'DELETE', headers: adminHeaders, signal: AbortSignal.timeout(180_000) });
    expect(removed.status).toBe(204);
    await four.stop();
    await ClusterLauncher.waitFor('node 4 gone from every book', waitMs, async () => {
      for (const id of [1, 2, 3]) if ((await peerOf(id, 4)) !== undefined) return undefined;
      return true;
    });
    await cluster.node(1).stop();
    await cluster.node(1).start();
    expect(await peerOf(1, 4)).toBeUndefined();
    expect((await cluster.status(1)).peers.map((peer) => peer.nodeId)).toEqual([2, 3]);
  });
});

/**
 * SIGTERM under load loses nothing acknowledged. Producers post steadily to a real
 * node; after a few hundred acknowledgements the node gets SIGTERM and drains while
 * they keep posting until their requests are refused. The process must exit 0 and log
 * its drain; restarted on the same data directory, it must return every message whose
 * post was answered 201. Producer loops are bounded; waits have deadlines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OpsProcess } from './ops-process.js';

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-Id': 'ops-drain', 'content-type': 'application/json' };
const producerCount = 4;
const postsPerProducerMax = 5_000;
const ackedBeforeSigterm = 300;

let dir = '';
const processes: OpsProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-drain-'));
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await rm(dir, { recursive: true, force: true });
});

async function serve(): Promise<OpsProcess & { url: string }> {
  const node = await OpsProcess.serve(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')]);
  processes.push(node);
  return node;
}

/** Posts one message at a time until a request fails (the node stopped); returns the acknowledged ids. */
async function produce(url: string, producer: number, acked: { count: number }): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 0; seq < postsPerProducerMax; seq++) {
    let response: Response;
    try {
      response = await fetch(`${url}/v2/queues/drain-${producer}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages: [{ body: { producer, seq }, ttl: 3600 }] }),
      });
    } catch {
      return ids; // refused or reset: not acknowledged
    }
    if (response.status !== 201) {
      await response.body?.cancel();
      return ids;
    }
    let document: { resources: string[] };
    try {
      document = (await response.json()) as { resources: string[] };
    } catch {
      return ids; // connection closed mid-body: not acknowledged
    }
    for (const href of document.resources) ids.push(href.slice(href.lastIndexOf('/') + 1));
    acked.count += document.resources.length;
  }
  return ids;
}

async function readBack(url: string, producer: number, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 20) {
    const batch = ids.slice(i, i + 20);
    const response = await fetch(`${url}/v2/queues/drain-${producer}/messages?ids=${batch.join(',')}`, { headers });
    expect(response.status).toBe(200);
    const document = (await response.json()) as { messages: { id: string }[] };
    for (const message of document.messages) found.add(message.id);
  }
  return found;
}

test('SIGTERM under a steady post load exits 0 and loses no acknowledged message', async () => {
  const node = await serve();
  const acked = { count: 0 };
  const producers = Array.from({ length: producerCount }, (_, p) => produce(node.url, p, acked));
  const startMs = Date.now();
  while (acked.count < ackedBeforeSigterm) {
    if (Date.now() - startMs > 60_000) throw new Error(`only ${acked.count} posts acknowledged in 60 s:\n${node.output}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  node.signal('SIGTERM');
  const acknowledged = await Promise.all(producers);
  const exit = await node.exit(90_000);
  expect(exit, node.output).toEqual({ code: 0, signal: null });
  expect(node.logLines().map((line) => line['msg'])).toEqual(expect.arrayContaining(['shutting down', 'drained: data flushed and closed']));

  const restarted = await serve();
  for (const [producer, ids] of acknowledged.entries()) {
    expect(ids.length).toBeGreaterThan(0);
    const found = await readBack(restarted.url, producer, ids);
    expect(ids.filter((id) => !found.has(id))).toEqual([]);
  }
  restarted.signal('SIGTERM');
  expect((await restarted.exit(90_000)).code).toBe(0);
}, 240_000);

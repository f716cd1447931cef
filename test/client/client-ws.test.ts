/**
 * The WebSocket client's throughput and resilience features against the real server
 * process, on the separate `ws_listen` listener (a fixed port, so it survives a
 * restart): pipelined requests on one socket, the in-flight bound, reconnection after
 * the server restarts (data kept in LMDB), the batching Producer and the Consumer's
 * claim → handle → delete loop, including a handler failure that is retried.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Consumer, createClient, Producer, ZaqarLimitError, type NewMessage, type ZaqarClient,
} from '../../src/client/zaqar-client.js';
import { LaunchedServer } from '../support/server-launcher.js';

let server: LaunchedServer;
let wsUrl: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `check` until it holds, failing after the deadline. */
async function eventually(check: () => Promise<boolean> | boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  const port = await freePort();
  server = await LaunchedServer.start({ config: { ws_listen: `127.0.0.1:${port}` } });
  wsUrl = `ws://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await server?.stop();
});

function wsClient(options: { inFlightMax?: number } = {}): ZaqarClient {
  return createClient({
    url: wsUrl, project: `p-${randomUUID()}`, encoding: 'msgpack', requestTimeoutMs: 20_000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 300 }, ...options,
  });
}

describe('WebSocket client', () => {
  test('pipelines hundreds of requests on one socket and matches every reply to its request', async () => {
    const client = wsClient();
    const posts = Array.from({ length: 200 }, (_, i) => client.postMessages('pipe', [{ body: i }]));
    const ids = (await Promise.all(posts)).map((r) => r[0] ?? '');
    expect(new Set(ids).size).toBe(200);
    const reads = await Promise.all(ids.map((id) => client.getMessage('pipe', id)));
    expect(reads.map((m) => m.body)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await client.close();
  });

  test('refuses requests beyond inFlightMax instead of queueing them', async () => {
    const client = wsClient({ inFlightMax: 10 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.queueStats('bound')));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBe(10);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ZaqarLimitError);
    await client.close();
  });

  test('sends authenticate first when given a token, then serves requests on that socket', async () => {
    const client = createClient({ url: wsUrl, project: `p-${randomUUID()}`, authToken: 'token', encoding: 'json' });
    expect(await client.createQueue('authed')).toEqual({ created: true });
    await client.close();
  });

  test('fails requests in flight when the connection drops, and refuses requests after close', async () => {
    const client = wsClient();
    await client.ping();
    const outcome = client.postMessages('dropped', [{ body: 1 }])
      .then(() => 'stored', (error: unknown) => (error as Error).name);
    await server.restart();
    expect(['stored', 'ZaqarConnectionError']).toContain(await outcome);
    await client.close();
    await expect(client.ping()).rejects.toMatchObject({ name: 'ZaqarConnectionError' });
  });

  test('reconnects after the server restarts and keeps working', async () => {
    const client = wsClient();
    await client.postMessages('durable', [{ body: 'before' }]);
    await server.restart();
    await eventually(async () => client.ping().catch(() => false));
    await client.postMessages('durable', [{ body: 'after' }]);
    const listed = await client.listMessages('durable', { echo: true });
    expect(listed.items.map((m) => m.body)).toEqual(['before', 'after']);
    await client.close();
  });

  test('Producer batches sends within its bounds and every message gets its id', async () => {
    const client = wsClient();
    const batches: number[] = [];
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'postMessages') {
          return (queue: string, messages: readonly NewMessage[]) => {
            batches.push(messages.length);
            return target.postMessages(queue, messages);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const producer = new Producer(counting, { queue: 'batched', batchMessagesMax: 25, lingerMs: 5, inFlightBatchesMax: 2 });
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ body: { i } })));
    await producer.close();
    expect(new Set(ids).size).toBe(200);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...batches)).toBeLessThanOrEqual(25);
    expect(batches.length).toBeGreaterThanOrEqual(8);
    expect(batches.length).toBeLessThan(200);
    expect((await client.queueStats('batched')).total).toBe(200);
    await client.close();
  });

  test('Consumer claims, handles and deletes every message, retrying one whose handler failed', async () => {
    const client = wsClient();
    const bodies = Array.from({ length: 30 }, (_, i) => ({ body: i }));
    await client.postMessages('work', bodies.slice(0, 15));
    await client.postMessages('work', bodies.slice(15));
    const handled: number[] = [];
    let hasFailedOnce = false;
    const errors: unknown[] = [];
    const consumer = new Consumer(client, {
      queue: 'work', batchSize: 7, claimTtlSeconds: 60, idleDelayMs: 50,
      handler: (message) => {
        if (message.body === 7 && !hasFailedOnce) {
          hasFailedOnce = true;
          throw new Error('first attempt fails');
        }
        handled.push(message.body as number);
      },
      onError: (error) => errors.push(error),
    });
    consumer.start();
    await eventually(() => handled.length >= 30);
    await consumer.stop();
    expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(errors).toHaveLength(1);
    expect(consumer.processed).toBe(30);
    expect((await client.queueStats('work')).total).toBe(0);
    await client.close();
  });
});

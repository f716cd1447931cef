/**
 * Slow-client protection against the real server process: a request whose body stalls,
 * or trickles in a byte at a time (which would keep an idle timer alive forever), gets
 * `408 {"title": "Request Timeout", ...}` once `http_body_timeout_seconds` (1 s here)
 * has passed since its headers, and its connection is closed; the server keeps
 * serving others. With `http_requests_in_flight_max` = 1, a request arriving while a
 * stalled one holds the only slot gets 503 with Retry-After, and is served once the
 * stalled client has gone.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { http_body_timeout_seconds: 1 } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function stalledPost(baseUrl: string): Socket {
  const url = new URL(baseUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
    socket.write(`POST /v2/queues/held/messages HTTP/1.1\r\nHost: x\r\nClient-ID: ${randomUUID()}\r\nX-Project-ID: slow\r\n`
      + 'Content-Length: 1000\r\n\r\n{');
  });
  socket.on('error', () => undefined);
  return socket;
}

async function waitForStatus(http: ZaqarHttp, status: number): Promise<Headers> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const reply = await http.get('/v2/queues');
    if (reply.status === status) return reply.headers;
    if (Date.now() > deadline) throw new Error(`no ${status} within the deadline (last ${reply.status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('requests in flight', () => {
  let bounded: LaunchedServer;

  beforeAll(async () => {
    bounded = await LaunchedServer.start({ config: { http_requests_in_flight_max: 1 } });
  }, 60_000);

  afterAll(async () => {
    await bounded?.stop();
  });

  test('beyond http_requests_in_flight_max a request gets 503 with Retry-After until the slot frees', async () => {
    const http = new ZaqarHttp(bounded.url);
    const stalled = stalledPost(bounded.url);
    const headers = await waitForStatus(http, 503);
    expect(headers.get('retry-after')).toBe('1');
    stalled.destroy();
    await waitForStatus(http, 200);
  });
});

/** Sends headers and `firstBytes`, then one more byte every `trickleMs` (0: none) until the server closes. */
function slowPost(options: { firstBytes: string; trickleMs: number }): Promise<string> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(`POST /v2/queues/slow/messages HTTP/1.1\r\nHost: x\r\nClient-ID: ${randomUUID()}\r\nX-Project-ID: slow\r\n`
        + `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n${options.firstBytes}`);
    });
    const trickle = options.trickleMs > 0 ? setInterval(() => socket.write(' '), options.trickleMs) : undefined;
    const deadline = setTimeout(() => socket.destroy(new Error('no answer within 30 s')), 30_000);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('close', () => {
      clearInterval(trickle);
      clearTimeout(deadline);
      resolve(answer);
    });
    socket.on('error', (error) => {
      clearInterval(trickle);
      clearTimeout(deadline);
      reject(error);
    });
  });
}

test('a stalled body gets 408 Request Timeout and its connection closed', async () => {
  const answer = await slowPost({ firstBytes: '{"messages": [', trickleMs: 0 });
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
    title: 'Request Timeout', description: 'The request body did not arrive in time.',
  });
});

test('a body trickling in a byte at a time is cut off the same way; others are still served', async () => {
  const answer = await slowPost({ firstBytes: '{', trickleMs: 200 });
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  const http = new ZaqarHttp(server.url);
  expect((await http.post('/v2/queues/fast/messages', { json: { messages: [{ body: 1, ttl: 60 }] } })).status).toBe(201);
});

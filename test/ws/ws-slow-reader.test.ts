/**
 * A client that stops reading while asking for large replies (its TCP socket is paused)
 * against the real server process with small per-socket bounds: the server stops
 * starting its requests once uWS holds half of `ws_max_backpressure_bytes`, queues at
 * most `ws_queued_per_socket_max` more, then closes it (1008, or abruptly if even the
 * close frame cannot be written) — while another socket keeps getting answers.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { LaunchedServer } from '../support/server-launcher.js';
import { exchange, RawWs } from './raw-ws.js';

let server: LaunchedServer;
let wsUrl: string;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': `p-${randomUUID()}` };

beforeAll(async () => {
  server = await LaunchedServer.start({ config: {
    ws_max_backpressure_bytes: 256 * 1024, ws_in_flight_per_socket_max: 8, ws_queued_per_socket_max: 64,
  } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/`;
});

afterAll(async () => {
  await server?.stop();
});

test('a socket that does not read its replies is closed, and other sockets keep being served', async () => {
  const setup = await RawWs.open(wsUrl);
  const big = 'x'.repeat(8 * 1024);
  const posted = await exchange(setup, { action: 'message_post', headers,
    body: { queue_name: 'big', messages: Array.from({ length: 20 }, () => ({ body: big })) } }, 'json');
  expect((posted.document as { headers: { status: number } }).headers.status).toBe(201);

  const slow = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    slow.once('open', resolve);
    slow.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => slow.once('close', (code: number) => resolve(code)));
  slow.on('error', () => {});
  // ws exposes no pause(); pausing its TCP socket makes this client a reader that never reads.
  (slow as unknown as { _socket: Socket })._socket.pause();
  const request = JSON.stringify({ action: 'message_list', headers, body: { queue_name: 'big', echo: true, limit: 20 } });
  for (let i = 0; i < 2000; i++) slow.send(request);

  for (let i = 0; i < 5; i++) {
    const reply = await exchange(setup, { action: 'queue_get_stats', headers, body: { queue_name: 'big' } }, 'msgpack');
    expect((reply.document as { body: { messages: { total: number } } }).body.messages.total).toBe(20);
  }
  (slow as unknown as { _socket: Socket })._socket.resume();
  expect([1006, 1008]).toContain(await closed);
  await setup.close();
});

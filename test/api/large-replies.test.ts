/**
 * Black-box: a reply much larger than the socket buffers reaches a slow reader intact.
 * A page of 20 messages of ~200 KB (~4 MB) is requested over a raw socket that stops
 * reading for a while, so the server's write outgrows what the socket buffers take at
 * once and has to resume on drain; the body must then parse completely.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
beforeAll(async () => {
  server = await LaunchedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

test('a multi-megabyte page survives a reader that pauses', async () => {
  const zaqar = new ZaqarHttp(server.url);
  const bodies = Array.from({ length: 20 }, (_, i) => `${i}:`.padEnd(200_000, String.fromCharCode(97 + (i % 26))));
  for (const body of bodies) await zaqar.postMessages('large', [{ body }]);

  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve());
    socket.on('error', reject);
  });
  socket.write(`GET /v2/queues/large/messages?limit=20&echo=true HTTP/1.1\r\nHost: x\r\nClient-ID: ${zaqar.clientId}\r\n` +
    `X-Project-ID: ${zaqar.project}\r\nConnection: close\r\n\r\n`);
  socket.pause();
  // Let the server fill the socket buffers and park on backpressure before reading on.
  const pausedUntil = Date.now() + 1500;
  while (Date.now() < pausedUntil) await new Promise((resolve) => setTimeout(resolve, 100));
  socket.resume();
  const deadline = setTimeout(() => socket.destroy(new Error('reply not complete within 30 s')), 30_000);
  await done;
  clearTimeout(deadline);

  const raw = Buffer.concat(chunks).toString('utf8');
  const split = raw.indexOf('\r\n\r\n');
  expect(raw.slice(0, split)).toMatch(/^HTTP\/1\.1 200 /);
  const page = JSON.parse(raw.slice(split + 4)) as { messages: Array<{ body: string }> };
  expect(page.messages.map((m) => m.body)).toEqual(bodies);
});

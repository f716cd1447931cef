/**
 * Per-project quotas against the real server process (src/api/quotas.ts): with
 * max_queues_per_project = 3 and max_messages_per_project = 5, a project's fourth
 * queue — created by PUT or lazily by a post — and its posts once it holds five
 * messages answer 403 "Quota exceeded" over HTTP and WebSocket; re-creating an
 * existing queue still succeeds, another project is unaffected, and deleting frees room.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';

let server: LaunchedServer;

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { max_queues_per_project: 3, max_messages_per_project: 5 } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

test('a project beyond its queue quota is refused with 403 Quota exceeded; others are not', async () => {
  const http = new ZaqarHttp(server.url);
  for (const name of ['a', 'b', 'c']) expect((await http.put(`/v2/queues/${name}`)).status).toBe(201);
  const fourth = await http.put('/v2/queues/d');
  expect(fourth.status).toBe(403);
  expect(errorOf(fourth).title).toBe('Quota exceeded');
  expect(errorOf(fourth).description).toContain('3 queues');
  expect((await http.put('/v2/queues/a')).status).toBe(204);
  const lazy = await http.post('/v2/queues/e/messages', { json: { messages: [{ body: 1, ttl: 60 }] } });
  expect(lazy.status).toBe(403);
  expect((await http.as(`p-${randomUUID()}`).put('/v2/queues/d')).status).toBe(201);
  const ws = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
  try {
    const reply = await exchange(ws, { action: 'queue_create', headers: { 'Client-ID': randomUUID(), 'X-Project-ID': http.project },
      body: { queue_name: 'f' } }, 'msgpack');
    expect((reply.document as { headers: { status: number } }).headers.status).toBe(403);
  } finally {
    await ws.close();
  }
  expect((await http.delete('/v2/queues/c')).status).toBe(204);
  expect((await http.put('/v2/queues/d')).status).toBe(201);
});

test('a project holding its message quota cannot post until it consumes', async () => {
  const http = new ZaqarHttp(server.url);
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) ids.push(...(await http.postMessages(n % 2 === 0 ? 'x' : 'y', [{ body: n, ttl: 300 }])));
  const refused = await http.post('/v2/queues/x/messages', { json: { messages: [{ body: 'over', ttl: 300 }] } });
  expect(refused.status).toBe(403);
  expect(errorOf(refused).title).toBe('Quota exceeded');
  expect((await http.delete(`/v2/queues/x/messages/${ids[0] ?? ''}`)).status).toBe(204);
  expect((await http.post('/v2/queues/x/messages', { json: { messages: [{ body: 'fits', ttl: 300 }] } })).status).toBe(201);
});

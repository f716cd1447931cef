/**
 * Black-box crash test: a real server process is killed with SIGKILL (`kill -9`) right
 * after its 201s, then restarted on the same LMDB data dir. Every acknowledged message,
 * queue (with metadata) and claim must still be there: a 201 means flushed to disk.
 * Concurrent posters make the node group-commit, so the crash also lands between
 * batches of acknowledged writes.
 */
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

interface Message { id: string; body: unknown; href: string }

test('kill -9 right after acknowledgements loses no message, queue or claim', async () => {
  const zaqar = new ZaqarHttp(server.url);
  expect((await zaqar.put('/v2/queues/durable', { json: { owner: 'ops', _default_message_ttl: 600 } })).status).toBe(201);
  const acknowledged: string[] = [];
  const posters = Array.from({ length: 8 }, async (_, worker) => {
    for (let i = 0; i < 10; i++) {
      const ids = await zaqar.postMessages('durable', [{ body: { worker, i } }, { body: { worker, i, second: true } }]);
      acknowledged.push(...ids);
    }
  });
  await Promise.all(posters);
  const claim = await zaqar.post('/v2/queues/durable/claims?limit=5', { json: { ttl: 3600, grace: 60 } });
  expect(claim.status).toBe(201);
  const claimId = claim.headers.get('location')?.split('/').pop() ?? '';
  const claimed = (claim.body as { messages: Message[] }).messages.map((m) => m.id);
  const [deleted] = acknowledged.filter((id) => !claimed.includes(id));
  expect((await zaqar.delete(`/v2/queues/durable/messages/${deleted}`)).status).toBe(204);

  await server.crash();
  await server.restart();
  const after = new ZaqarHttp(server.url, zaqar.project, zaqar.clientId);

  expect((await after.get('/v2/queues/durable')).body).toMatchObject({ owner: 'ops', _default_message_ttl: 600 });
  const survivors = acknowledged.filter((id) => id !== deleted);
  const found: string[] = [];
  for (let i = 0; i < survivors.length; i += 20) {
    const page = (await after.get(`/v2/queues/durable/messages?ids=${survivors.slice(i, i + 20).join(',')}`)).body as { messages: Message[] };
    found.push(...page.messages.map((m) => m.id));
  }
  expect(found.sort()).toEqual([...survivors].sort());
  expect((await after.get(`/v2/queues/durable/messages/${deleted}`)).status).toBe(404);
  expect((await after.get('/v2/queues/durable/stats')).body).toMatchObject({ messages: { claimed: 5, total: survivors.length } });
  const claimAfter = (await after.get(`/v2/queues/durable/claims/${claimId}`)).body as { ttl: number; messages: Message[] };
  expect(claimAfter.ttl).toBe(3600);
  expect(claimAfter.messages.map((m) => m.id).sort()).toEqual([...claimed].sort());
  // The claim still excludes its messages from new claims after the restart.
  const next = await after.post('/v2/queues/durable/claims?limit=20', { json: {} });
  expect((next.body as { messages: Message[] }).messages.some((m) => claimed.includes(m.id))).toBe(false);
});

test('kill -9 while posts are in flight keeps every post that was acknowledged', async () => {
  const zaqar = new ZaqarHttp(server.url);
  const acknowledged: string[] = [];
  let isCrashed = false;
  const posters = Array.from({ length: 6 }, async (_, worker) => {
    for (let i = 0; i < 200 && !isCrashed; i++) {
      try {
        acknowledged.push(...(await zaqar.postMessages('inflight', [{ body: { worker, i } }])));
      } catch {
        return; // the connection died with the process: this post was never acknowledged
      }
    }
  });
  const deadline = Date.now() + 20_000;
  while (acknowledged.length < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  isCrashed = true;
  await server.crash();
  await Promise.all(posters);
  expect(acknowledged.length).toBeGreaterThanOrEqual(60);
  await server.restart();
  const after = new ZaqarHttp(server.url, zaqar.project, zaqar.clientId);
  const found = new Set<string>();
  for (let i = 0; i < acknowledged.length; i += 20) {
    const page = (await after.get(`/v2/queues/inflight/messages?ids=${acknowledged.slice(i, i + 20).join(',')}`)).body as { messages: Message[] };
    for (const m of page.messages) found.add(m.id);
  }
  expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);
});

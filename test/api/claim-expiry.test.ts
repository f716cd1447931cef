/**
 * Black-box: claim expiry, grace and redelivery on a real server process. Claim ttl
 * cannot go below 60 s, so this one scenario waits about a minute (bounded at 100 s,
 * polling for the condition, never sleeping a fixed time). A message whose own ttl
 * (60 s) ends before its claim does survives the claim by `grace`, becomes claimable
 * and listable again the moment the claim lapses, and the stale claim id no longer
 * authorises a delete.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
beforeAll(async () => {
  server = await LaunchedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

interface Message { id: string; ttl: number; href: string }

test('an expired claim frees its messages, which live on for the grace period', { timeout: 120_000 }, async () => {
  const zaqar = new ZaqarHttp(server.url);
  const [id] = await zaqar.postMessages('expiring', [{ body: 'work', ttl: 60 }]);
  const claim = await zaqar.post('/v2/queues/expiring/claims', { json: { ttl: 60, grace: 120 } });
  expect(claim.status).toBe(201);
  const claimId = claim.headers.get('location')?.split('/').pop() ?? '';
  expect((claim.body as { messages: Message[] }).messages[0]?.ttl).toBe(180);
  expect((await zaqar.post('/v2/queues/expiring/claims', { json: {} })).status).toBe(204);

  const deadline = Date.now() + 100_000;
  let status = 200;
  while (status === 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    status = (await zaqar.get(`/v2/queues/expiring/claims/${claimId}`)).status;
  }
  expect(status).toBe(404);

  // Past its own 60 s ttl, the message is alive thanks to the grace period.
  const message = (await zaqar.get(`/v2/queues/expiring/messages/${id}`)).body as Message;
  expect(message.href).toBe(`/v2/queues/expiring/messages/${id}`);
  const listed = (await zaqar.get('/v2/queues/expiring/messages?echo=true')).body as { messages: Message[] };
  expect(listed.messages.map((m) => m.id)).toEqual([id]);
  const stale = await zaqar.delete(`/v2/queues/expiring/messages/${id}?claim_id=${claimId}`);
  expect(stale.status).toBe(400);
  expect(errorOf(stale).title).toBe('Unable to delete');
  const again = await zaqar.post('/v2/queues/expiring/claims', { json: {} });
  expect((again.body as { messages: Message[] }).messages.map((m) => m.id)).toEqual([id]);
});

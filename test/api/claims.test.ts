/**
 * Black-box: claim routes (zaqar-api-v2.md §8, zaqar-semantics.md §5) on a real server
 * process on LMDB — create (201 + Location, or 204), oldest-first and non-overlapping,
 * the ttl+grace lifetime extension, get, renew, release, validation of ttl/grace/limit,
 * and dead-lettering after `_max_claim_count`. Expiry needs real time and lives in
 * claim-expiry.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
beforeAll(async () => {
  server = await LaunchedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

interface Message { id: string; href: string; ttl: number; age: number; body: unknown }
interface ClaimDoc { age: number; ttl: number; href: string; messages: Message[] }

function claimIdOf(location: string | null): string {
  return location?.split('/').pop() ?? '';
}

describe('create', () => {
  test('claims oldest first, never overlapping, and answers 204 when nothing is claimable', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const ids = await zaqar.postMessages('work', [1, 2, 3, 4, 5].map((n) => ({ body: n })));
    const first = await zaqar.post('/v2/queues/work/claims?limit=2', { json: { ttl: 120, grace: 60 } });
    expect(first.status).toBe(201);
    const claimId = claimIdOf(first.headers.get('location'));
    expect(first.headers.get('location')).toBe(`/v2/queues/work/claims/${claimId}`);
    const messages = (first.body as { messages: Message[] }).messages;
    expect(messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(messages[0]?.href).toBe(`/v2/queues/work/messages/${ids[0]}?claim_id=${claimId}`);
    const second = await zaqar.post('/v2/queues/work/claims', { json: {} });
    expect((second.body as { messages: Message[] }).messages.map((m) => m.id)).toEqual(ids.slice(2));
    expect((await zaqar.post('/v2/queues/work/claims')).status).toBe(204);
    expect((await zaqar.post('/v2/queues/nothing-here/claims')).status).toBe(204);
  });

  test('extends the life of messages that would die before the claim ends', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('extend', [{ body: 'short', ttl: 60 }, { body: 'long', ttl: 3600 }]);
    const claim = await zaqar.post('/v2/queues/extend/claims', { json: { ttl: 300, grace: 100 } });
    const byBody = Object.fromEntries((claim.body as { messages: Message[] }).messages.map((m) => [String(m.body), m.ttl]));
    expect(byBody).toEqual({ short: 400, long: 3600 });
  });

  test('validates ttl, grace, limit and the body like the reference', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const cases: Array<[string, string, string]> = [
      ['{"ttl": 59}', '', 'The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.'],
      ['{"ttl": 43201}', '', 'The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.'],
      ['{"grace": 59}', '', 'The grace for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.'],
      ['{}', '?limit=21', 'Limit must be at least 1 and may not be greater than 20.'],
      ['{}', '?limit=0', 'Limit must be at least 1 and may not be greater than 20.'],
    ];
    for (const [raw, query, description] of cases) {
      const reply = await zaqar.post(`/v2/queues/v/claims${query}`, { raw, headers: { 'Content-Type': 'application/json' } });
      expect(reply.body, raw + query).toEqual({ title: 'Invalid API request', description });
    }
    const typed: Array<[string, string]> = [
      ['{"ttl": null}', 'The value of the "ttl" field must be a int.'],
      ['{"ttl": 100.0}', 'The value of the "ttl" field must be a int.'],
      ['{"grace": "60"}', 'The value of the "grace" field must be a int.'],
      ['[]', 'Document type not supported.'],
      ['{', 'Request body could not be parsed.'],
    ];
    for (const [raw, description] of typed) {
      const reply = await zaqar.post('/v2/queues/v/claims', { raw, headers: { 'Content-Type': 'application/json' } });
      expect(reply.body, raw).toEqual({ title: 'Invalid request body', description });
    }
    expect(errorOf(await zaqar.post('/v2/queues/v/claims?limit=x')).title).toBe('Invalid parameter');
  });
});

describe('get, renew, release', () => {
  test('get shows age, ttl, href and the held messages; 404 for unknown, malformed or emptied claims', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a] = await zaqar.postMessages('inspect', [{ body: 'a' }]);
    const claim = await zaqar.post('/v2/queues/inspect/claims', { json: { ttl: 200 } });
    const claimId = claimIdOf(claim.headers.get('location'));
    const got = (await zaqar.get(`/v2/queues/inspect/claims/${claimId}`)).body as ClaimDoc;
    expect(got.ttl).toBe(200);
    expect(got.href).toBe(`/v2/queues/inspect/claims/${claimId}`);
    expect(got.age).toBeGreaterThanOrEqual(0);
    expect(got.messages.map((m) => m.href)).toEqual([`/v2/queues/inspect/messages/${a}?claim_id=${claimId}`]);
    const unknown = await zaqar.get('/v2/queues/inspect/claims/5f0000000000000000000000');
    expect(unknown.body).toEqual({ title: 'Not found', description: `Claim 5f0000000000000000000000 does not exist in queue inspect for project ${zaqar.project}` });
    expect((await zaqar.get('/v2/queues/inspect/claims/garbage')).status).toBe(404);
    expect((await zaqar.as('elsewhere').get(`/v2/queues/inspect/claims/${claimId}`)).status).toBe(404);
    await zaqar.delete(`/v2/queues/inspect/messages/${a}?claim_id=${claimId}`);
    expect((await zaqar.get(`/v2/queues/inspect/claims/${claimId}`)).status).toBe(404);
  });

  test('renew resets the clock and ttl; needs a body; 404 when not active', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('renew', [{ body: 'a' }]);
    const claimId = claimIdOf((await zaqar.post('/v2/queues/renew/claims', { json: { ttl: 100 } })).headers.get('location'));
    expect((await zaqar.patch(`/v2/queues/renew/claims/${claimId}`, { json: { ttl: 500, grace: 30 } })).status).toBe(204);
    const got = (await zaqar.get(`/v2/queues/renew/claims/${claimId}`)).body as ClaimDoc;
    expect(got.ttl).toBe(500);
    expect((await zaqar.patch(`/v2/queues/renew/claims/${claimId}`, { json: {} })).status).toBe(204);
    expect(((await zaqar.get(`/v2/queues/renew/claims/${claimId}`)).body as ClaimDoc).ttl).toBe(300);
    expect(errorOf(await zaqar.patch(`/v2/queues/renew/claims/${claimId}`, { json: { ttl: 10 } })).description)
      .toBe('The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long.');
    const noBody = await zaqar.patch(`/v2/queues/renew/claims/${claimId}`);
    expect(errorOf(noBody).title).toBe('Invalid request body');
    expect((await zaqar.patch('/v2/queues/renew/claims/5f0000000000000000000000', { json: {} })).status).toBe(404);
  });

  test('release frees the messages at once and is always 204', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a] = await zaqar.postMessages('release', [{ body: 'a' }]);
    const claimId = claimIdOf((await zaqar.post('/v2/queues/release/claims', { json: {} })).headers.get('location'));
    expect((await zaqar.delete(`/v2/queues/release/claims/${claimId}`)).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/release/claims/${claimId}`)).status).toBe(404);
    const again = await zaqar.post('/v2/queues/release/claims', { json: {} });
    expect((again.body as { messages: Message[] }).messages.map((m) => m.id)).toEqual([a]);
    expect((await zaqar.delete(`/v2/queues/release/claims/${claimId}`)).status).toBe(204);
    expect((await zaqar.delete('/v2/queues/release/claims/garbage')).status).toBe(204);
  });
});

describe('dead-letter queues', () => {
  test('a message claimed _max_claim_count times moves to the dead-letter queue on the next attempt', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/src', { json: { _max_claim_count: 2, _dead_letter_queue: 'dlq', _dead_letter_queue_messages_ttl: 7200 } });
    const [id] = await zaqar.postMessages('src', [{ body: 'poison' }]);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const claim = await zaqar.post('/v2/queues/src/claims', { json: {} });
      expect(claim.status, `attempt ${attempt}`).toBe(201);
      await zaqar.delete(`/v2/queues/src/claims/${claimIdOf(claim.headers.get('location'))}`);
    }
    expect((await zaqar.post('/v2/queues/src/claims', { json: {} })).status).toBe(204);
    const dlq = (await zaqar.get('/v2/queues/dlq/messages?echo=true')).body as { messages: Message[] };
    expect(dlq.messages.map((m) => [m.id, m.body, m.ttl])).toEqual([[id, 'poison', 7200]]);
    expect((await zaqar.get('/v2/queues/src/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
  });
});

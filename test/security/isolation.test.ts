/**
 * Tenant isolation (zaqar-semantics.md §1) against the real server process: project B
 * owns a queue with metadata, messages and a live claim; project A then calls every
 * routed operation — HTTP and WebSocket — naming B's queue, message ids and claim id.
 * A must see nothing of B's (no names, bodies, ids, metadata or counts) and change
 * nothing of B's; afterwards B finds its queue, metadata, messages and claim exactly as
 * it left them. B's subscription and topic (with its messages) are walked the same way.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp, type HttpReply } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';

let server: LaunchedServer;
let owner: ZaqarHttp;
let intruder: ZaqarHttp;
let messageIds: string[] = [];
let claimId = '';
let claimedIds: string[] = [];
const marker = `secret-${randomUUID()}`;
let subscriptionId = '';
let topicMessageIds: string[] = [];

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { signed_url: { secret_key: 'isolation-key' } } });
  owner = new ZaqarHttp(server.url, `project-b-${randomUUID()}`);
  intruder = owner.as(`project-a-${randomUUID()}`);
  expect((await owner.put('/v2/queues/q', { json: { description: marker } })).status).toBe(201);
  messageIds = await owner.postMessages('q', [1, 2, 3, 4].map((n) => ({ body: { marker, n }, ttl: 900 })));
  const claim = await owner.post('/v2/queues/q/claims?limit=2', { json: { ttl: 600, grace: 60 } });
  expect(claim.status).toBe(201);
  claimId = (claim.headers.get('location') ?? '').split('/').pop() ?? '';
  const subscription = await owner.post('/v2/queues/q/subscriptions',
    { json: { subscriber: `http://127.0.0.1:9/${marker}`, ttl: 3600, options: { marker } } });
  expect(subscription.status).toBe(201);
  subscriptionId = (subscription.body as { subscription_id: string }).subscription_id;
  expect((await owner.put('/v2/topics/t', { json: { description: marker } })).status).toBe(201);
  const topicPost = await owner.post('/v2/topics/t/messages', { json: { messages: [{ body: { marker }, ttl: 900 }] } });
  expect(topicPost.status).toBe(201);
  topicMessageIds = (topicPost.body as { resources: string[] }).resources.map((href) => href.split('/').pop() ?? '');
  claimedIds = (claim.body as { messages: Array<{ href: string }> }).messages.map((m) => m.href.split('/').pop()?.split('?')[0] ?? '');
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/**
 * Nothing of B's may appear in a reply to A, except an id A itself sent (a 404's
 * description may repeat it): `what` is the request as text.
 */
function expectNothingOfB(reply: HttpReply | { text: string }, what: string): void {
  for (const secret of [marker, claimId, ...messageIds, owner.project, subscriptionId, ...topicMessageIds]) {
    if (what.includes(secret)) continue;
    expect(reply.text.includes(secret), `${what} leaked ${secret}: ${reply.text}`).toBe(false);
  }
}

async function expectBIntact(): Promise<void> {
  const metadata = await owner.get('/v2/queues/q');
  expect((metadata.body as { description?: string }).description).toBe(marker);
  const listing = await owner.get(`/v2/queues/q/messages?ids=${messageIds.join(',')}`);
  expect(listing.status).toBe(200);
  expect((listing.body as { messages: unknown[] }).messages).toHaveLength(messageIds.length);
  const claim = await owner.get(`/v2/queues/q/claims/${claimId}`);
  expect(claim.status).toBe(200);
  const claimed = (claim.body as { messages: Array<{ id: string }> }).messages.map((m) => m.id).sort();
  expect(claimed).toEqual([...claimedIds].sort());
  const stats = await owner.get('/v2/queues/q/stats');
  expect((stats.body as { messages: { total: number; claimed: number } }).messages).toMatchObject({ total: 4, claimed: 2 });
  const subscription = await owner.get(`/v2/queues/q/subscriptions/${subscriptionId}`);
  expect(subscription.status).toBe(200);
  expect(subscription.text).toContain(marker);
  const topic = await owner.get('/v2/topics/t');
  expect((topic.body as { description?: string }).description).toBe(marker);
  const topicMessages = await owner.get(`/v2/topics/t/messages?ids=${topicMessageIds.join(',')}`);
  expect((topicMessages.body as { messages: unknown[] }).messages).toHaveLength(topicMessageIds.length);
}

describe('project A against project B over HTTP', () => {
  test('reads find nothing of B', async () => {
    const reads: Array<[string, string]> = [
      ['GET', '/v2/queues'],
      ['GET', '/v2/queues?detailed=true&with_count=true'],
      ['GET', `/v2/queues?description=${marker}`],
      ['GET', '/v2/queues/q'],
      ['GET', '/v2/queues/q/stats'],
      ['GET', '/v2/queues/q/messages?echo=true&include_claimed=true'],
      ['GET', `/v2/queues/q/messages?ids=${messageIds.join(',')}`],
      ...messageIds.map((id): [string, string] => ['GET', `/v2/queues/q/messages/${id}`]),
      ['GET', `/v2/queues/q/claims/${claimId}`],
      ['GET', '/v2/queues/q/subscriptions'],
      ['GET', `/v2/queues/q/subscriptions/${subscriptionId}`],
      ['GET', '/v2/topics'],
      ['GET', '/v2/topics/t'],
      ['GET', '/v2/topics/t/stats'],
      ['GET', '/v2/topics/t/messages?echo=true&include_claimed=true'],
      ['GET', `/v2/topics/t/messages?ids=${topicMessageIds.join(',')}`],
      ...topicMessageIds.map((id): [string, string] => ['GET', `/v2/topics/t/messages/${id}`]),
      ['GET', '/v2/topics/t/subscriptions'],
    ];
    for (const [method, path] of reads) {
      const reply = await intruder.call(method, path);
      expect(reply.status, `${method} ${path}`).toBeLessThan(500);
      expectNothingOfB(reply, `${method} ${path}`);
    }
    for (const id of messageIds) expect((await intruder.get(`/v2/queues/q/messages/${id}`)).status).toBe(404);
    expect((await intruder.get(`/v2/queues/q/claims/${claimId}`)).status).toBe(404);
    const stats = await intruder.get('/v2/queues/q/stats');
    expect((stats.body as { messages: { total: number } }).messages.total).toBe(0);
  });

  test("writes naming B's ids change nothing of B", async () => {
    const writes: Array<{ method: string; path: string; json?: unknown; headers?: Record<string, string> }> = [
      { method: 'PATCH', path: `/v2/queues/q/claims/${claimId}`, json: { ttl: 60 } },
      { method: 'DELETE', path: `/v2/queues/q/claims/${claimId}` },
      ...messageIds.map((id) => ({ method: 'DELETE', path: `/v2/queues/q/messages/${id}` })),
      ...claimedIds.map((id) => ({ method: 'DELETE', path: `/v2/queues/q/messages/${id}?claim_id=${claimId}` })),
      { method: 'DELETE', path: `/v2/queues/q/messages?ids=${messageIds.join(',')}` },
      { method: 'DELETE', path: '/v2/queues/q/messages?pop=20' },
      { method: 'POST', path: '/v2/queues/q/claims?limit=20', json: { ttl: 60, grace: 60 } },
      { method: 'PATCH', path: '/v2/queues/q', json: [{ op: 'replace', path: '/metadata/description', value: 'pwned' }],
        headers: { 'Content-Type': 'application/openstack-messaging-v2.0-json-patch' } },
      { method: 'POST', path: '/v2/queues/q/purge', json: { resource_types: ['messages'] } },
      { method: 'POST', path: '/v2/queues/q/share', json: { paths: ['messages'], methods: ['GET', 'DELETE'] } },
      { method: 'PATCH', path: `/v2/queues/q/subscriptions/${subscriptionId}`, json: { ttl: 100 } },
      { method: 'PUT', path: `/v2/queues/q/subscriptions/${subscriptionId}/confirm`, json: { confirmed: false } },
      { method: 'DELETE', path: `/v2/queues/q/subscriptions/${subscriptionId}` },
      ...topicMessageIds.map((id) => ({ method: 'DELETE', path: `/v2/topics/t/messages/${id}` })),
      { method: 'DELETE', path: `/v2/topics/t/messages?ids=${topicMessageIds.join(',')}` },
      { method: 'POST', path: '/v2/topics/t/purge', json: { resource_types: ['messages', 'subscriptions'] } },
      { method: 'DELETE', path: '/v2/topics/t' },
      { method: 'POST', path: '/v2/queues/q/purge', json: { resource_types: ['messages', 'subscriptions'] } },
      { method: 'DELETE', path: '/v2/queues/q' },
    ];
    for (const write of writes) {
      const reply = await intruder.call(write.method, write.path, {
        ...(write.json === undefined ? {} : { json: write.json }), ...(write.headers === undefined ? {} : { headers: write.headers }),
      });
      expect(reply.status, `${write.method} ${write.path}`).toBeLessThan(500);
      expectNothingOfB(reply, `${write.method} ${write.path} ${JSON.stringify(write.json ?? null)}`);
    }
    await expectBIntact();
  });

  test("A's own queue of the same name is a different queue", async () => {
    await intruder.postMessages('q', [{ body: { mine: true }, ttl: 600 }]);
    const listing = await intruder.get('/v2/queues/q/messages?echo=true');
    expect((listing.body as { messages: unknown[] }).messages).toHaveLength(1);
    expectNothingOfB(listing, 'own listing');
    const queues = await owner.get('/v2/queues');
    expect((queues.body as { queues: unknown[] }).queues).toHaveLength(1);
    await intruder.delete('/v2/queues/q');
    await expectBIntact();
  });
});

describe('project A against project B over WebSocket', () => {
  test('every queue, message and claim action naming B finds and changes nothing of B', async () => {
    const ws = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
    const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': intruder.project };
    const frames: Array<[string, Record<string, unknown>]> = [
      ['queue_list', { detailed: true }],
      ['queue_get', { queue_name: 'q' }],
      ['queue_get_stats', { queue_name: 'q' }],
      ['message_list', { queue_name: 'q', echo: true, include_claimed: true }],
      ['message_get_many', { queue_name: 'q', message_ids: messageIds }],
      ...messageIds.map((id): [string, Record<string, unknown>] => ['message_get', { queue_name: 'q', message_id: id }]),
      ['claim_get', { queue_name: 'q', claim_id: claimId }],
      ['claim_update', { queue_name: 'q', claim_id: claimId, ttl: 60 }],
      ['claim_delete', { queue_name: 'q', claim_id: claimId }],
      ...messageIds.map((id): [string, Record<string, unknown>] => ['message_delete', { queue_name: 'q', message_id: id }]),
      ['message_delete_many', { queue_name: 'q', message_ids: messageIds }],
      ['message_delete_many', { queue_name: 'q', pop: 20 }],
      ['claim_create', { queue_name: 'q', limit: 20, ttl: 60, grace: 60 }],
      ['subscription_list', { queue_name: 'q' }],
      ['subscription_get', { queue_name: 'q', subscription_id: subscriptionId }],
      ['subscription_delete', { queue_name: 'q', subscription_id: subscriptionId }],
      ['queue_purge', { queue_name: 'q' }],
      ['queue_delete', { queue_name: 'q' }],
    ];
    try {
      for (const encoding of ['json', 'msgpack'] as const) {
        for (const [action, body] of frames) {
          const frame = await exchange(ws, { action, headers, body }, encoding);
          const document = frame.document as { headers: { status: number }; body: unknown };
          expect(document.headers.status, action).toBeLessThan(500);
          // The `request` member echoes what A sent; only the answer's body is A's view of B.
          expectNothingOfB({ text: JSON.stringify(document.body ?? null) }, `${action} ${JSON.stringify(body)} (${encoding})`);
        }
      }
    } finally {
      await ws.close();
    }
    await expectBIntact();
  });
});

/**
 * Every WebSocket action against the real server process (path `/` of its HTTP port),
 * once with JSON text frames and once with MessagePack binary frames, sent as raw
 * frames: exact envelopes, statuses and bodies of zaqar-websocket.md §4–§7, and each
 * reply in the encoding of its request. Also pre-signed access over the socket and
 * pipelining (many frames in flight, replies correlated by the echoed request id).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { exchange, RawWs } from './raw-ws.js';

let server: LaunchedServer;
let wsUrl: string;

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { signed_url: { secret_key: 'ws-test-key' } } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/`;
});

afterAll(async () => {
  await server?.stop();
});

function headersFor(project: string): Record<string, string> {
  return { 'Client-ID': randomUUID(), 'X-Project-ID': project };
}

for (const encoding of ['json', 'msgpack'] as const) {
  describe(`WebSocket actions over ${encoding}`, () => {
    let ws: RawWs;
    let headers: Record<string, string>;
    const isBinary = encoding === 'msgpack';
    const call = async (action: string, body?: Record<string, unknown>) => {
      const frame = await exchange(ws, body === undefined ? { action, headers } : { action, headers, body }, encoding);
      expect(frame.isBinary).toBe(isBinary);
      return frame.document as { request: Record<string, unknown>; headers: { status: number }; body: any };
    };

    beforeAll(async () => {
      ws = await RawWs.open(wsUrl);
    });
    afterAll(async () => {
      await ws.close();
    });

    test('queue actions create, read, list, count and remove a queue', async () => {
      headers = headersFor(`p-${randomUUID()}`);
      expect(await call('queue_list')).toEqual({
        request: { action: 'queue_list', body: {}, headers, api: 'v2' }, headers: { status: 200 }, body: { queues: [] },
      });
      expect((await call('queue_get_stats', { queue_name: 'q1' })).headers.status).toBe(404);
      const created = await call('queue_create', { queue_name: 'q1', metadata: { node: 31 } });
      expect(created).toEqual({
        request: { action: 'queue_create', body: { queue_name: 'q1', metadata: { node: 31 } }, headers, api: 'v2' },
        headers: { status: 201 }, body: 'Queue q1 created.',
      });
      expect((await call('queue_create', { queue_name: 'q1' })).headers.status).toBe(204);
      expect((await call('queue_get', { queue_name: 'q1' })).body).toEqual({ node: 31 });
      expect((await call('queue_list')).body).toEqual({ queues: [{ name: 'q1' }] });
      expect((await call('queue_list', { detailed: true })).body).toEqual({ queues: [{ name: 'q1', metadata: { node: 31 } }] });
      const stats = await call('queue_get_stats', { queue_name: 'q1' });
      expect(stats.headers.status).toBe(200);
      expect(stats.body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
      expect((await call('queue_create', { queue_name: 'm@rsb@r' })).headers.status).toBe(400);
      const removed = await call('queue_delete', { queue_name: 'q1' });
      expect([removed.headers.status, removed.body]).toEqual([204, 'Queue q1 removed.']);
      expect((await call('queue_get_stats', { queue_name: 'q1' })).headers.status).toBe(404);
    });

    test('message actions post, read, list, delete and pop', async () => {
      headers = headersFor(`p-${randomUUID()}`);
      const posted = await call('message_post', { queue_name: 'mq', messages: [
        { ttl: 300, body: { n: 1 } }, { ttl: 300, body: { n: 2 } }, { body: 'three' }, { body: [4] }] });
      expect(posted.headers.status).toBe(201);
      const ids = posted.body.message_ids as string[];
      expect(ids).toHaveLength(4);
      const one = await call('message_get', { queue_name: 'mq', message_id: ids[0] });
      expect(one.body.messages).toMatchObject({ id: ids[0], claim_id: null, ttl: 300, body: { n: 1 } });
      expect(one.body.messages.href).toBeUndefined();
      const third = await call('message_get', { queue_name: 'mq', message_id: ids[2] });
      expect(third.body.messages.ttl).toBe(3600);
      const many = await call('message_get_many', { queue_name: 'mq', message_ids: ids });
      expect(many.body.messages.map((m: { id: string }) => m.id).sort()).toEqual([...ids].sort());
      const none = await call('message_get_many', { queue_name: 'mq', message_ids: ['nope'] });
      expect([none.headers.status, none.body]).toEqual([200, { messages: [] }]);
      expect((await call('message_list', { queue_name: 'mq' })).body.messages).toEqual([]);
      const listed = await call('message_list', { queue_name: 'mq', echo: true, limit: 2 });
      expect(listed.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(0, 2));
      expect(typeof listed.body.marker).toBe('string');
      const next = await call('message_list', { queue_name: 'mq', echo: true, marker: listed.body.marker });
      expect(next.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(2));
      const deleted = await call('message_delete', { queue_name: 'mq', message_id: ids[0] });
      expect([deleted.headers.status, deleted.body]).toEqual([204, {}]);
      expect((await call('message_get', { queue_name: 'mq', message_id: ids[0] })).headers.status).toBe(404);
      expect((await call('message_delete_many', { queue_name: 'mq', message_ids: [ids[1]] })).headers.status).toBe(204);
      const popped = await call('message_delete_many', { queue_name: 'mq', pop: 1 });
      expect(popped.headers.status).toBe(200);
      expect(popped.body.messages).toHaveLength(1);
      expect(popped.body.messages[0].body).toBe('three');
      const badTtl = await call('message_post', { queue_name: 'mq', messages: [{ ttl: '200', body: 1 }] });
      expect([badTtl.headers.status, badTtl.body.exception]).toEqual([400, 'Bad request. The value of the "ttl" field must be a int.']);
      const noBody = await call('message_post', { queue_name: 'mq', messages: [{ ttl: 200 }] });
      expect(noBody.body.exception).toBe('Bad request. Missing "body" field.');
    });

    test('a post is measured as its Python JSON text against the queue cap, and its bodies read back as sent', async () => {
      headers = headersFor(`p-${randomUUID()}`);
      await call('queue_create', { queue_name: 'cap', metadata: { _max_messages_post_size: 100 } });
      // [{"body": "ééé…"}]: 14 characters around the string, each é written as \u00e9 (6), so 14 + 6n.
      const fits = await call('message_post', { queue_name: 'cap', messages: [{ body: 'é'.repeat(14) }] });
      expect(fits.headers.status).toBe(201);
      const over = await call('message_post', { queue_name: 'cap', messages: [{ body: 'é'.repeat(15) }] });
      expect([over.headers.status, over.body.exception]).toEqual([400, 'Message collection size is too large. ' +
        'The max size for current queue is 100. It is calculated by max size = min(max_messages_post_size_config: 262144, ' +
        'max_messages_post_size_queue: 100).']);
      const body = { nested: { list: [1, -2.5, null, true, 'x'], 'k é': 'v' }, __proto__x: 1 };
      const posted = await call('message_post', { queue_name: 'mq2', messages: [{ body }, { body: 'é'.repeat(3) }] });
      const [first, second] = posted.body.message_ids as string[];
      expect((await call('message_get', { queue_name: 'mq2', message_id: first })).body.messages.body).toEqual(body);
      expect((await call('message_get', { queue_name: 'mq2', message_id: second })).body.messages.body).toBe('ééé');
    });

    test('claim actions claim, read, renew, delete with the claim id and release', async () => {
      headers = headersFor(`p-${randomUUID()}`);
      const nothing = await call('claim_create', { queue_name: 'cq' });
      expect([nothing.headers.status, nothing.body]).toEqual([204, { claim_id: null }]);
      await call('message_post', { queue_name: 'cq', messages: [{ body: 1 }, { body: 2 }] });
      const claim = await call('claim_create', { queue_name: 'cq', ttl: 100, grace: 60, limit: 5 });
      expect(claim.headers.status).toBe(201);
      const claimId = claim.body.claim_id as string;
      expect(claim.body.messages.map((m: { claim_id: string }) => m.claim_id)).toEqual([claimId, claimId]);
      const info = await call('claim_get', { queue_name: 'cq', claim_id: claimId });
      expect(info.body).toMatchObject({ ttl: 100 });
      expect(info.body.messages).toHaveLength(2);
      const renewed = await call('claim_update', { queue_name: 'cq', claim_id: claimId, ttl: 60 });
      expect([renewed.headers.status, renewed.body]).toEqual([204, `Claim ${claimId} updated.`]);
      const first = claim.body.messages[0].id as string;
      expect((await call('message_delete', { queue_name: 'cq', message_id: first })).headers.status).toBe(403);
      expect((await call('message_delete', { queue_name: 'cq', message_id: first, claim_id: claimId })).headers.status).toBe(204);
      const released = await call('claim_delete', { queue_name: 'cq', claim_id: claimId });
      expect([released.headers.status, released.body]).toEqual([204, `Claim ${claimId} deleted.`]);
      const gone = await call('claim_get', { queue_name: 'cq', claim_id: claimId });
      expect([gone.headers.status, gone.body.error]).toEqual([404, `Claim ${claimId} does not exist.`]);
      expect((await call('claim_create', { queue_name: 'cq', limit: 21 })).headers.status).toBe(400);
      expect((await call('queue_purge', { queue_name: 'cq', resource_types: ['messages'] })).headers.status).toBe(204);
      expect((await call('queue_get_stats', { queue_name: 'cq' })).body.messages.total).toBe(0);
    });

    test('authenticate, ping and the home document answer', async () => {
      headers = headersFor(`p-${randomUUID()}`);
      const auth = await exchange(ws, { action: 'authenticate', headers: { ...headers, 'X-Auth-Token': 't' } }, encoding);
      expect(auth.document).toEqual({ request: { action: 'authenticate', body: {}, headers: {}, api: 'v2' },
        headers: { status: 200 }, body: { message: 'Authentified.' } });
      expect((await call('ping_node')).headers.status).toBe(204);
      expect((await call('get_home_doc')).headers.status).toBe(200);
    });
  });
}

describe('WebSocket pre-signed access', () => {
  test('a signed frame may read the signed queue; a bad signature or a non-message action is refused', async () => {
    const project = `p-${randomUUID()}`;
    const clientId = randomUUID();
    const shared = await fetch(`${server.url}/v2/queues/sq/share`, {
      method: 'POST',
      headers: { 'Client-ID': clientId, 'X-Project-ID': project, 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['messages'], methods: ['GET', 'POST'] }),
    });
    expect(shared.status).toBe(200);
    const signed = (await shared.json()) as { paths: string[]; methods: string[]; expires: string; signature: string };
    const headers = {
      'Client-ID': clientId, 'X-Project-ID': project, 'URL-Signature': signed.signature, 'URL-Expires': signed.expires,
      'URL-Methods': JSON.stringify(signed.methods), 'URL-Paths': JSON.stringify(signed.paths),
    };
    const ws = await RawWs.open(wsUrl);
    const post = await exchange(ws, { action: 'message_post', headers, body: { queue_name: 'sq', messages: [{ body: 1 }] } }, 'json');
    expect((post.document as { headers: { status: number } }).headers.status).toBe(201);
    const list = await exchange(ws, { action: 'message_list', headers, body: { queue_name: 'sq', echo: true } }, 'json');
    expect((list.document as { body: { messages: unknown[] } }).body.messages).toHaveLength(1);
    const otherQueue = await exchange(ws, { action: 'message_list', headers, body: { queue_name: 'other' } }, 'json');
    expect((otherQueue.document as { headers: unknown; body: unknown })).toMatchObject({ headers: { status: 403 },
      body: { error: 'Not authentified.' } });
    const forged = await exchange(ws, { action: 'message_list', headers: { ...headers, 'URL-Signature': '00' },
      body: { queue_name: 'sq' } }, 'json');
    expect((forged.document as { headers: { status: number } }).headers.status).toBe(403);
    const queueAction = await exchange(ws, { action: 'queue_list', headers }, 'json');
    expect((queueAction.document as { headers: { status: number } }).headers.status).toBe(403);
    await ws.close();
  });
});

describe('WebSocket pipelining', () => {
  test('a read pipelined behind writes of the same socket sees them', async () => {
    const ws = await RawWs.open(wsUrl);
    const headers = headersFor(`p-${randomUUID()}`);
    ws.sendJson({ action: 'queue_create', headers, body: { queue_name: 'ryw', metadata: { k: 'v' } } });
    ws.sendMsgpack({ action: 'message_post', headers, body: { queue_name: 'ryw', messages: [{ body: 1 }, { body: 2 }] } });
    ws.sendJson({ action: 'queue_get', headers, body: { queue_name: 'ryw' } });
    ws.sendJson({ action: 'queue_get_stats', headers, body: { queue_name: 'ryw' } });
    const replies = new Map<string, { body: unknown }>();
    for (let i = 0; i < 4; i++) {
      const reply = (await ws.next()).document as { request: { action: string }; body: unknown };
      replies.set(reply.request.action, reply);
    }
    expect(replies.get('queue_get')?.body).toEqual({ k: 'v' });
    expect(replies.get('queue_get_stats')?.body).toMatchObject({ messages: { total: 2 } });
    await ws.close();
  });

  test('many frames in flight on one socket are all answered, each carrying its request id', async () => {
    const ws = await RawWs.open(wsUrl);
    const headers = headersFor(`p-${randomUUID()}`);
    const count = 100;
    for (let i = 0; i < count; i++) {
      const frame = { action: i % 2 === 0 ? 'message_post' : 'queue_get_stats',
        headers: { ...headers, 'X-Request-ID': String(i) },
        body: i % 2 === 0 ? { queue_name: 'pq', messages: [{ body: i }] } : { queue_name: 'pq' } };
      if (i % 3 === 0) ws.sendMsgpack(frame);
      else ws.sendJson(frame);
    }
    const seen = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const { document, isBinary } = await ws.next();
      const reply = document as { request: { action: string; headers: Record<string, string> }; headers: { status: number } };
      const id = reply.request.headers['X-Request-ID'] ?? '';
      expect(isBinary).toBe(Number(id) % 3 === 0);
      seen.set(id, reply.headers.status);
    }
    expect(seen.size).toBe(count);
    for (let i = 0; i < count; i += 2) expect(seen.get(String(i))).toBe(201);
    const stats = await exchange(ws, { action: 'queue_get_stats', headers, body: { queue_name: 'pq' } }, 'json');
    expect((stats.document as { body: { messages: { total: number } } }).body.messages.total).toBe(count / 2);
    await ws.close();
  });

  test('posts pipelined by one client each get their own ids, stored in send order', async () => {
    const ws = await RawWs.open(wsUrl);
    const project = `p-${randomUUID()}`;
    const headers = headersFor(project);
    const posts = 60;
    for (let i = 0; i < posts; i++) {
      const frame = { action: 'message_post', headers: { ...headers, 'X-Request-ID': String(i) }, body: { queue_name: 'co', messages: [{ body: [i, 0] }, { body: [i, 1] }] } };
      ws.sendMsgpack(frame);
    }
    const idsOf = new Map<number, string[]>();
    for (let i = 0; i < posts; i++) {
      const reply = (await ws.next()).document as { request: { headers: Record<string, string> }; headers: { status: number }; body: { message_ids: string[] } };
      expect(reply.headers.status).toBe(201);
      idsOf.set(Number(reply.request.headers['X-Request-ID']), reply.body.message_ids);
    }
    const ids = [...idsOf.values()].flat();
    expect(ids).toHaveLength(posts * 2);
    expect(new Set(ids).size).toBe(posts * 2);
    // Listed in seq order: the bodies come back in the order their posts were sent, each id with its own body.
    const listed: { id: string; body: [number, number] }[] = [];
    let marker: string | undefined;
    for (let page = 0; page < posts && listed.length < posts * 2; page++) {
      const body = { queue_name: 'co', limit: 20, echo: true, ...(marker === undefined ? {} : { marker }) };
      const reply = (await exchange(ws, { action: 'message_list', headers, body }, 'json')).document as { body: { messages: { id: string; body: [number, number] }[]; marker?: string } };
      listed.push(...reply.body.messages);
      marker = reply.body.marker;
      if (reply.body.messages.length === 0 || marker === undefined) break;
    }
    expect(listed.map((m) => m.body)).toEqual(Array.from({ length: posts * 2 }, (_, n) => [Math.floor(n / 2), n % 2]));
    for (const m of listed) expect(idsOf.get(m.body[0])?.[m.body[1]]).toBe(m.id);
    await ws.close();
  });
});

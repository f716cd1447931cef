/**
 * Black-box: message routes (zaqar-api-v2.md §6, §7) on a real server process on LMDB —
 * post with lazy queue creation, ttl/delay defaults and size limits (config and per
 * queue), listing with echo/include_claimed/include_delayed and marker paging that stays
 * stable while messages are posted and deleted, get by id(s), bulk delete, pop, the
 * single-delete claim matrix, delayed queues and checksums.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
let smallServer: LaunchedServer;
beforeAll(async () => {
  [server, smallServer] = await Promise.all([
    LaunchedServer.start({ config: { enable_checksum: true } }),
    LaunchedServer.start({ config: { max_messages_post_size: 2048, message_delete_with_claim_id: true } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), smallServer?.stop()]);
});

interface Message { id: string; href: string; ttl: number; age: number; body: unknown; checksum?: string }
type Page = { messages: Message[]; links: Array<{ rel: string; href: string }> };

describe('post', () => {
  test('creates the queue lazily and answers 201 with Location and resources in request order', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const reply = await zaqar.post('/v2/queues/lazy/messages', { json: { messages: [{ body: { n: 1 }, ttl: 300 }, { body: 'two' }, { body: null }] } });
    expect(reply.status).toBe(201);
    const resources = (reply.body as { resources: string[] }).resources;
    expect(resources).toHaveLength(3);
    const ids = resources.map((r) => r.split('/').pop());
    expect(reply.headers.get('location')).toBe(`/v2/queues/lazy/messages?ids=${ids.join(',')}`);
    expect(resources[0]).toMatch(/^\/v2\/queues\/lazy\/messages\/[0-9a-f]{24}$/);
    expect((await zaqar.get('/v2/queues?name=lazy')).body).toMatchObject({ queues: [{ name: 'lazy' }] });
    const page = (await zaqar.get('/v2/queues/lazy/messages?echo=true')).body as Page;
    expect(page.messages.map((m) => [m.body, m.ttl])).toEqual([[{ n: 1 }, 300], ['two', 3600], [null, 3600]]);
  });

  test('takes the ttl default from queue metadata', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/short', { json: { _default_message_ttl: 120 } });
    const [id] = await zaqar.postMessages('short', [{ body: 1 }]);
    expect(((await zaqar.get(`/v2/queues/short/messages/${id}`)).body as Message).ttl).toBe(120);
  });

  test('rejects bad documents with the reference messages', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const cases: Array<[string, string, string]> = [
      ['{"messages": []}', 'Invalid API request', 'No messages to enqueu.'],
      ['{"message": [{"body": 1}]}', 'Invalid API request', 'No messages were found in the request body.'],
      ['[{"body": 1}]', 'Invalid API request', 'No messages were found in the request body.'],
      ['{"messages": {"body": 1}}', 'Invalid request body', 'Document type not supported.'],
      ['{"messages": [{"ttl": 100}]}', 'Invalid request body', 'Missing "body" field.'],
      ['{"messages": [{"body": 1, "ttl": "60"}]}', 'Invalid request body', 'The value of the "ttl" field must be a int.'],
      ['{"messages": [{"body": 1, "ttl": 60.0}]}', 'Invalid request body', 'The value of the "ttl" field must be a int.'],
      ['{"messages": [{"body": 1, "ttl": null}]}', 'Invalid request body', 'The value of the "ttl" field must be a int.'],
      ['{"messages": [{"body": 1, "ttl": 59}]}', 'Invalid API request', 'The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long.'],
      ['{"messages": [{"body": 1, "ttl": 1209601}]}', 'Invalid API request', 'The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long.'],
      ['{"messages": [{"body": 9223372036854775808}]}', 'Invalid request body', 'JSON contains integer that is too large.'],
      ['{"messages": [', 'Invalid request body', 'Request body could not be parsed.'],
    ];
    for (const [raw, title, description] of cases) {
      const reply = await zaqar.post('/v2/queues/strict/messages', { raw, headers: { 'Content-Type': 'application/json' } });
      expect(reply.status, raw).toBe(400);
      expect(reply.body, raw).toEqual({ title, description });
    }
    const noBody = await zaqar.post('/v2/queues/strict/messages');
    expect(noBody.status).toBe(400);
  });

  test('enforces max_messages_post_size and the per-queue cap on the whole request', async () => {
    const zaqar = new ZaqarHttp(smallServer.url);
    const big = await zaqar.post('/v2/queues/big/messages', { json: { messages: [{ body: 'x'.repeat(2100) }] } });
    expect(big.body).toEqual({ title: 'Invalid API request', description: 'Message collection size is too large. Max size 2048' });
    await zaqar.put('/v2/queues/capped', { json: { _max_messages_post_size: 100 } });
    const capped = await zaqar.post('/v2/queues/capped/messages', { json: { messages: [{ body: 'x'.repeat(120) }] } });
    expect(errorOf(capped).description).toBe('Message collection size is too large. The max size for current queue is 100. ' +
      'It is calculated by max size = min(max_messages_post_size_config: 2048, max_messages_post_size_queue: 100).');
    expect((await zaqar.post('/v2/queues/capped/messages', { json: { messages: [{ body: 'ok' }] } })).status).toBe(201);
  });
});

describe('list', () => {
  test('hides own messages unless echo=true, treating every spelling of the Client-ID as one client', async () => {
    const producer = new ZaqarHttp(server.url);
    await producer.postMessages('echo', [{ body: 1 }]);
    expect(((await producer.get('/v2/queues/echo/messages')).body as Page).messages).toEqual([]);
    const undashed = producer.as(producer.project, producer.clientId.replace(/-/g, '').toUpperCase());
    expect(((await undashed.get('/v2/queues/echo/messages')).body as Page).messages).toEqual([]);
    expect(((await producer.get('/v2/queues/echo/messages?echo=true')).body as Page).messages).toHaveLength(1);
    const other = producer.as(producer.project);
    expect(((await other.get('/v2/queues/echo/messages')).body as Page).messages).toHaveLength(1);
  });

  test('paging by marker stays stable while messages are posted and deleted', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const first = await zaqar.postMessages('paging', Array.from({ length: 7 }, (_, i) => ({ body: i })));
    const seen: unknown[] = [];
    let next: string | undefined = '/v2/queues/paging/messages?echo=true&limit=3';
    let round = 0;
    const later: string[] = [];
    while (next !== undefined && round < 10) {
      const page = (await zaqar.get(next)).body as Page;
      if (page.messages.length === 0) break;
      seen.push(...page.messages.map((m) => m.body));
      expect(page.links).toHaveLength(1);
      next = page.links[0]?.href;
      if (round === 0) {
        // Between pages: delete a message not yet seen and one already seen, post two more.
        await zaqar.delete(`/v2/queues/paging/messages/${first[4]}`);
        await zaqar.delete(`/v2/queues/paging/messages/${first[0]}`);
        later.push(...(await zaqar.postMessages('paging', [{ body: 'late-1' }, { body: 'late-2' }])));
      }
      round++;
    }
    expect(later).toHaveLength(2);
    expect(seen).toEqual([0, 1, 2, 3, 5, 6, 'late-1', 'late-2']);
  });

  test('next links carry the paging parameters and the forced include_delayed', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('links', [{ body: 1 }, { body: 2 }]);
    const page = (await zaqar.get('/v2/queues/links/messages?limit=1&echo=true')).body as Page;
    expect(page.links[0]?.href).toMatch(/^\/v2\/queues\/links\/messages\?limit=1&echo=true&include_delayed=true&marker=\d+$/);
    expect((await zaqar.get('/v2/queues/links/messages?marker=garbage&echo=true')).body).toEqual({ messages: [], links: [] });
    expect((await zaqar.get('/v2/queues/missing/messages')).body).toEqual({ messages: [], links: [] });
    for (const limit of ['0', '21', '-5']) {
      expect((await zaqar.get(`/v2/queues/links/messages?limit=${limit}`)).body)
        .toEqual({ title: 'Invalid API request', description: 'Limit must be at least 1 and may not be greater than 20.' });
    }
  });

  test('claimed messages are listed only with include_claimed, with their claim id in the href', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('claimed', [{ body: 1 }, { body: 2 }]);
    const claim = await zaqar.post('/v2/queues/claimed/claims?limit=1', { json: { ttl: 300 } });
    const claimId = claim.headers.get('location')?.split('/').pop();
    const plain = (await zaqar.get('/v2/queues/claimed/messages?echo=true')).body as Page;
    expect(plain.messages.map((m) => m.body)).toEqual([2]);
    const all = (await zaqar.get('/v2/queues/claimed/messages?echo=true&include_claimed=true')).body as Page;
    expect(all.messages.map((m) => m.body)).toEqual([1, 2]);
    expect(all.messages[0]?.href).toBe(`/v2/queues/claimed/messages/${all.messages[0]?.id}?claim_id=${claimId}`);
  });

  test('messages carry the Python-style MD5 checksum when enabled', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a, b, c] = await zaqar.postMessages('sums', [{ body: { event: 'BackupStarted' } }, { body: 'Post It!' }, { body: 239 }]);
    const got = (await zaqar.get(`/v2/queues/sums/messages?ids=${a},${b},${c}`)).body as Page;
    const sums = Object.fromEntries(got.messages.map((m) => [m.id, m.checksum]));
    expect(sums).toEqual({
      [a ?? '']: 'MD5:82eb2714b7c0237d373947c046cac78d',
      [b ?? '']: 'MD5:ae11e9c700a37988f60e05f2da34fc40',
      [c ?? '']: 'MD5:555d6702c950ecb729a966504af0a635',
    });
  });
});

describe('delayed queues', () => {
  test('delayed messages are hidden from listing and claims but visible by id, to pop and in stats', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.put('/v2/queues/later', { json: { _default_message_delay: 900 } });
    const [delayed, immediate] = await zaqar.postMessages('later', [{ body: 'delayed' }, { body: 'now', delay: 0 }]);
    const listed = (await zaqar.get('/v2/queues/later/messages?echo=true')).body as Page;
    expect(listed.messages.map((m) => m.id)).toEqual([immediate]);
    const withDelayed = (await zaqar.get('/v2/queues/later/messages?echo=true&include_delayed=true')).body as Page;
    expect(withDelayed.messages.map((m) => m.id)).toEqual([delayed, immediate]);
    expect((await zaqar.get(`/v2/queues/later/messages/${delayed}`)).status).toBe(200);
    const claim = await zaqar.post('/v2/queues/later/claims', { json: {} });
    expect((claim.body as Page).messages.map((m) => m.id)).toEqual([immediate]);
    expect((await zaqar.post('/v2/queues/later/claims', { json: {} })).status).toBe(204);
    expect((await zaqar.get('/v2/queues/later/stats')).body).toMatchObject({ messages: { claimed: 1, free: 1, total: 2 } });
    const popped = (await zaqar.delete('/v2/queues/later/messages?pop=5')).body as Page;
    expect(popped.messages.map((m) => m.id)).toEqual([delayed]);
  });

  test('the delay field is ignored in queues without a default delay', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [id] = await zaqar.postMessages('nodelay', [{ body: 1, delay: 900 }]);
    const listed = (await zaqar.get('/v2/queues/nodelay/messages?echo=true')).body as Page;
    expect(listed.messages.map((m) => m.id)).toEqual([id]);
    const bad = await zaqar.post('/v2/queues/later-bad/messages', { json: { messages: [{ body: 1 }] } });
    expect(bad.status).toBe(201);
    await zaqar.put('/v2/queues/delay-range', { json: { _default_message_delay: 10 } });
    const range = await zaqar.post('/v2/queues/delay-range/messages', { json: { messages: [{ body: 1, delay: 901 }] } });
    expect(errorOf(range).description).toBe('The Delay TTL for a message may not exceed 900 seconds,and must be at least 0 seconds long.');
  });
});

describe('get and delete', () => {
  test('get by id and by ids; unknown ids are 404 or skipped', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a, b] = await zaqar.postMessages('getq', [{ body: 'a' }, { body: 'b' }]);
    const one = (await zaqar.get(`/v2/queues/getq/messages/${a}`)).body as Message;
    expect(one).toMatchObject({ id: a, href: `/v2/queues/getq/messages/${a}`, ttl: 3600, body: 'a' });
    expect(one.age).toBeGreaterThanOrEqual(0);
    expect(Object.keys(one).sort()).toEqual(['age', 'body', 'checksum', 'href', 'id', 'ttl']);
    const missing = await zaqar.get('/v2/queues/getq/messages/000000000000000000000000');
    expect(missing.body).toEqual({ title: 'Not found', description: `Message 000000000000000000000000 does not exist in queue getq for project ${zaqar.project}` });
    expect((await zaqar.get('/v2/queues/getq/messages/not-an-id')).status).toBe(404);
    const some = (await zaqar.get(`/v2/queues/getq/messages?ids=${a},nope,${b}`)).body as Page;
    expect(some.messages.map((m) => m.body).sort()).toEqual(['a', 'b']);
    expect(some).not.toHaveProperty('links');
    const none = await zaqar.get('/v2/queues/getq/messages?ids=nope1,nope2');
    expect(none.body).toEqual({ title: 'Not found', description: `No messages with IDs: ['nope1', 'nope2'] found in the queue getq for project ${zaqar.project}.` });
    const tooMany = await zaqar.get(`/v2/queues/getq/messages?ids=${Array.from({ length: 21 }, (_, i) => `id${i}`).join(',')}`);
    expect(errorOf(tooMany).description).toBe('Limit must be at least 1 and may not be greater than 20.');
  });

  test('bulk delete by ids ignores claims and unknown ids; parameter rules', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a, b] = await zaqar.postMessages('bulk', [{ body: 'a' }, { body: 'b' }]);
    await zaqar.post('/v2/queues/bulk/claims', { json: {} });
    expect((await zaqar.delete(`/v2/queues/bulk/messages?ids=${a},${b},unknown`)).status).toBe(204);
    expect((await zaqar.get('/v2/queues/bulk/stats')).body).toEqual({ messages: { claimed: 0, free: 0, total: 0 } });
    expect((await zaqar.delete('/v2/queues/nowhere/messages?ids=a')).status).toBe(204);
    const cases: Array<[string, string]> = [
      ['', 'The request should have either "ids" or "pop" parameter in the request, to be able to delete.'],
      ['?ids=a&pop=1', 'pop and id params cannot be present together in the delete request.'],
      ['?pop=0', 'Pop value must be at least 1 and may not be greater than 20.'],
      ['?pop=21', 'Pop value must be at least 1 and may not be greater than 20.'],
      [`?ids=${Array.from({ length: 21 }, (_, i) => i).join(',')}`, 'ids parameter should have at least 1 and not greater than 20 values.'],
    ];
    for (const [query, description] of cases) {
      expect((await zaqar.delete(`/v2/queues/bulk/messages${query}`)).body, query).toEqual({ title: 'Invalid API request', description });
    }
  });

  test('bulk delete requires claim_ids when message_delete_with_claim_id is on', async () => {
    const zaqar = new ZaqarHttp(smallServer.url);
    const [a] = await zaqar.postMessages('withclaim', [{ body: 'a' }]);
    const missing = await zaqar.delete(`/v2/queues/withclaim/messages?ids=${a}`);
    expect(errorOf(missing).description).toBe('The request should have both "ids" and "claim_ids" parameter in the request when message_delete_with_claim_id is True.');
    const claim = await zaqar.post('/v2/queues/withclaim/claims', { json: {} });
    const claimId = claim.headers.get('location')?.split('/').pop() ?? '';
    expect((await zaqar.delete(`/v2/queues/withclaim/messages?ids=${a}&claim_ids=${claimId}`)).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/withclaim/messages/${a}`)).status).toBe(404);
  });

  test('pop removes and returns unclaimed messages oldest first in the pop shape', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await zaqar.postMessages('popq', [{ body: 1 }, { body: 2 }, { body: 3 }]);
    await zaqar.post('/v2/queues/popq/claims?limit=1', { json: {} });
    const popped = (await zaqar.delete('/v2/queues/popq/messages?pop=5')).body as { messages: Array<Record<string, unknown>> };
    expect(popped.messages.map((m) => m['body'])).toEqual([2, 3]);
    expect(Object.keys(popped.messages[0] ?? {}).sort()).toEqual(['age', 'body', 'claim_count', 'claim_id', 'id', 'ttl']);
    expect((await zaqar.delete('/v2/queues/popq/messages?pop=5')).body).toEqual({ messages: [] });
    expect((await zaqar.delete('/v2/queues/none/messages?pop=1')).body).toEqual({ messages: [] });
  });

  test('single delete follows the claim matrix', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const [a, b, c] = await zaqar.postMessages('matrix', [{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
    const claim = await zaqar.post('/v2/queues/matrix/claims?limit=2', { json: {} });
    const claimId = claim.headers.get('location')?.split('/').pop() ?? '';
    const otherClaim = '5f0000000000000000000000';
    const claimed = { title: 'Unable to delete', description: 'This message is claimed; it cannot be deleted without a valid claim ID.' };
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${a}`)).body).toEqual(claimed);
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${a}?claim_id=${otherClaim}`)).body).toEqual(claimed);
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${a}?claim_id=bad`)).body)
      .toEqual({ title: 'Unable to delete', description: 'The specified claim does not exist or has expired.' });
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${c}?claim_id=${claimId}`)).body)
      .toEqual({ title: 'Unable to delete', description: 'A claim was specified, but the message is not currently claimed.' });
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${a}?claim_id=${claimId}`)).status).toBe(204);
    expect((await zaqar.get(`/v2/queues/matrix/messages/${a}`)).status).toBe(404);
    await zaqar.delete(`/v2/queues/matrix/claims/${claimId}`);
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${b}`)).status).toBe(204);
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${c}`)).status).toBe(204);
    expect((await zaqar.delete(`/v2/queues/matrix/messages/${c}`)).status).toBe(204);
    expect((await zaqar.delete('/v2/queues/matrix/messages/garbage')).status).toBe(204);
  });
});

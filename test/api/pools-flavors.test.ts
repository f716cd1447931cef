/**
 * Black-box pool and flavor API over HTTP against a real `zaqar-ts serve` process in
 * admin mode: create/overwrite/get/patch/delete of pools with each documented refusal
 * (schema, URI without a scheme, URI in use 409, capability mismatch, the last pool of a
 * flavor 403), flavors assigning and releasing pools, paging, `_flavor` on queue PUT,
 * the admin policy, the routes being absent without admin mode, and the catalogue
 * surviving a restart (it lives in the shard logs, not in process memory).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exchange, RawWs } from '../ws/raw-ws.js';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp, type HttpReply } from '../support/zaqar-http.js';

const admin = { 'X-Roles': 'admin' };
let server: LaunchedServer;

/** One WebSocket action on `url`'s node; the reply's status and body. */
async function wsAction(url: string, action: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const ws = await RawWs.open(`${url.replace(/^http:/, 'ws:')}/`);
  try {
    const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': 'ws-project', ...admin };
    const frame = await exchange(ws, { action, headers, body }, 'json');
    const reply = frame.document as { headers: { status: number }; body: unknown };
    return { status: reply.headers.status, body: reply.body };
  } finally {
    await ws.close();
  }
}
beforeAll(async () => {
  server = await LaunchedServer.start({ config: { DEFAULT: { admin_mode: true } } });
});
afterAll(async () => {
  await server?.stop();
});

function http(): ZaqarHttp {
  return new ZaqarHttp(server.url);
}

function putPool(zaqar: ZaqarHttp, name: string, json: unknown): Promise<HttpReply> {
  return zaqar.put(`/v2/pools/${name}`, { json, headers: admin });
}

describe('pools API', () => {
  test('create, overwrite, get (detailed), patch and delete a pool', async () => {
    const zaqar = http();
    const created = await putPool(zaqar, 'p1', { uri: 'redis://127.0.0.1:6391/a', weight: 10, options: { k: 1 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v2/pools/p1');
    expect((await zaqar.get('/v2/pools/p1', { headers: admin })).body)
      .toEqual({ name: 'p1', uri: 'redis://127.0.0.1:6391/a', weight: 10, flavor: null, href: '/v2/pools/p1' });
    expect((await zaqar.get('/v2/pools/p1?detailed=true', { headers: admin })).body).toMatchObject({ options: { k: 1 } });
    expect((await putPool(zaqar, 'p1', { uri: 'redis://127.0.0.1:6391/b', weight: 20 })).status).toBe(201);
    const patched = await zaqar.patch('/v2/pools/p1', { json: { weight: 30, location: 'ignored' }, headers: admin });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ name: 'p1', uri: 'redis://127.0.0.1:6391/b', weight: 30, flavor: null, href: '/v2/pools/p1' });
    expect((await zaqar.delete('/v2/pools/p1', { headers: admin })).status).toBe(204);
    expect((await zaqar.get('/v2/pools/p1', { headers: admin })).status).toBe(404);
    expect((await zaqar.delete('/v2/pools/p1', { headers: admin })).status).toBe(204);
  });

  test('refuses bad bodies, a URI without a scheme, a URI in use and a missing pool', async () => {
    const zaqar = http();
    for (const body of [{ weight: 1 }, { uri: 'redis://h:1' }, { uri: 'redis://h:1', weight: -1 }, { uri: 'redis://h:1', weight: 2 ** 32 },
      { uri: 'redis://h:1', weight: 'big' }, { uri: 'localhost:27017', weight: 1 }, { uri: [], weight: 1 },
      { uri: 'redis://h:1', weight: 1, options: [] }, { uri: 'redis://h:1', weight: 1, extra: 1 }]) {
      const reply = await putPool(zaqar, 'bad', body);
      expect([reply.status, errorOf(reply).title]).toEqual([400, 'Invalid request body']);
    }
    expect((await putPool(zaqar, 'u1', { uri: 'mongodb://127.0.0.1:27017/u', weight: 1 })).status).toBe(201);
    const conflict = await putPool(zaqar, 'u2', { uri: 'mongodb://127.0.0.1:27017/u', weight: 1 });
    expect([conflict.status, errorOf(conflict).title]).toEqual([409, 'Resource conflict']);
    const noField = await zaqar.patch('/v2/pools/u1', { json: { location: 1 }, headers: admin });
    expect([noField.status, errorOf(noField).title]).toEqual([400, 'Invalid request body']);
    expect((await zaqar.patch('/v2/pools/nope', { json: { weight: 1 }, headers: admin })).status).toBe(404);
    expect((await zaqar.get('/v2/pools/nope', { headers: admin })).body).toEqual({ title: 'Not found', description: 'Pool nope does not exist' });
    await zaqar.delete('/v2/pools/u1', { headers: admin });
  });

  test('lists by name with limit, marker and detailed; next links carry them', async () => {
    const zaqar = http();
    for (const i of [3, 1, 2]) expect((await putPool(zaqar, `l${i}`, { uri: `redis://h:1/l${i}`, weight: i, options: { i } })).status).toBe(201);
    const page = await zaqar.get('/v2/pools?limit=2&detailed=true', { headers: admin });
    const body = page.body as { pools: { name: string; options?: unknown }[]; links: { rel: string; href: string }[] };
    expect(body.pools.map((p) => p.name)).toEqual(['l1', 'l2']);
    expect(body.pools[0]?.options).toEqual({ i: 1 });
    expect(body.links).toEqual([{ rel: 'next', href: '/v2/pools?limit=2&detailed=true&marker=l2' }]);
    const next = (await zaqar.get(body.links[0]?.href ?? '', { headers: admin })).body as { pools: { name: string }[] };
    expect(next.pools.map((p) => p.name)).toEqual(['l3']);
    const last = (await zaqar.get('/v2/pools?marker=l3', { headers: admin })).body;
    expect(last).toEqual({ pools: [], links: [] });
    expect((await zaqar.get('/v2/pools?limit=0', { headers: admin })).status).toBe(400);
    expect((await zaqar.get('/v2/pools?limit=21', { headers: admin })).status).toBe(400);
    for (const i of [1, 2, 3]) await zaqar.delete(`/v2/pools/l${i}`, { headers: admin });
  });

  test('pools and flavor writes need the admin role; flavor reads do not', async () => {
    const zaqar = http();
    expect((await zaqar.get('/v2/pools')).status).toBe(403);
    expect((await zaqar.put('/v2/pools/x', { json: { uri: 'redis://h:1', weight: 1 } })).status).toBe(403);
    expect((await zaqar.put('/v2/flavors/x', { json: { pool_list: ['x'] } })).status).toBe(403);
    expect((await zaqar.get('/v2/flavors')).status).toBe(200);
    expect((await zaqar.get('/v2/flavors/x')).status).toBe(404);
  });
});

describe('flavors API', () => {
  test('a flavor assigns its pools, derives capabilities, and releases pools it no longer lists', async () => {
    const zaqar = http();
    await putPool(zaqar, 'fa', { uri: 'mongodb://h:27017/fa', weight: 1 });
    await putPool(zaqar, 'fb', { uri: 'mongodb://h:27017/fb', weight: 1 });
    const created = await zaqar.put('/v2/flavors/gold', { json: { pool_list: ['fa'], capabilities: {} }, headers: admin });
    expect([created.status, created.headers.get('location')]).toEqual([201, '/v2/flavors/gold']);
    const all = ['FIFO', 'CLAIMS', 'DURABILITY', 'AOD', 'HIGH_THROUGHPUT'];
    expect((await zaqar.get('/v2/flavors/gold')).body)
      .toEqual({ name: 'gold', href: '/v2/flavors/gold', pool_list: ['fa'], capabilities: all });
    expect((await zaqar.get('/v2/pools/fa', { headers: admin })).body).toMatchObject({ flavor: 'gold' });
    const patched = await zaqar.patch('/v2/flavors/gold', { json: { pool_list: ['fb'] }, headers: admin });
    expect([patched.status, patched.body]).toEqual([200, { name: 'gold', capabilities: all, pool_list: ['fb'], href: '/v2/flavors/gold' }]);
    expect((await zaqar.get('/v2/pools/fa', { headers: admin })).body).toMatchObject({ flavor: null });
    const listed = (await zaqar.get('/v2/flavors')).body as { flavors: unknown[]; links: unknown[] };
    expect(listed.flavors).toEqual([{ name: 'gold', href: '/v2/flavors/gold', pool_list: ['fb'] }]);
    expect(listed.links).toEqual([{ rel: 'next', href: '/v2/flavors?limit=10&detailed=false&marker=gold' }]);
    // Flavors are per project.
    expect((await zaqar.as(`other-${zaqar.project}`).get('/v2/flavors/gold')).status).toBe(404);

    const lastPool = await zaqar.delete('/v2/pools/fb', { headers: admin });
    expect([lastPool.status, lastPool.body]).toEqual([403,
      { title: 'Unable to delete', description: 'This pool is used by flavors gold; It cannot be deleted.' }]);
    // A pool of a flavor keeps its URI; another pool of another store type cannot join.
    const moved = await putPool(zaqar, 'fb', { uri: 'mongodb://h:27017/elsewhere', weight: 1, flavor: 'gold' });
    expect([moved.status, errorOf(moved).title]).toEqual([400, 'Unable to create pool']);
    const mismatch = await putPool(zaqar, 'fr', { uri: 'redis://h:6379/fr', weight: 1, flavor: 'gold' });
    expect([mismatch.status, errorOf(mismatch).title]).toEqual([400, 'Unable to create pool']);

    expect((await zaqar.delete('/v2/flavors/gold', { headers: admin })).status).toBe(204);
    expect((await zaqar.get('/v2/pools/fb', { headers: admin })).body).toMatchObject({ flavor: null });
    expect((await zaqar.delete('/v2/pools/fb', { headers: admin })).status).toBe(204);
    await zaqar.delete('/v2/pools/fa', { headers: admin });
  });

  test('refuses a missing or empty pool list, an unknown pool and a missing flavor', async () => {
    const zaqar = http();
    expect(errorOf(await zaqar.put('/v2/flavors/f', { json: {}, headers: admin })).title).toBe('Invalid request body');
    expect(errorOf(await zaqar.put('/v2/flavors/f', { json: { pool_list: 1 }, headers: admin })).title).toBe('Invalid request body');
    expect((await zaqar.put('/v2/flavors/f', { json: { pool_list: [] }, headers: admin })).body)
      .toEqual({ title: 'Unable to create', description: 'Bad Request' });
    expect((await zaqar.put('/v2/flavors/f', { json: { pool_list: ['ghost'] }, headers: admin })).body)
      .toEqual({ title: 'Unable to create', description: 'Flavor f could not be created, error:Pool ghost does not exist' });
    expect((await zaqar.patch('/v2/flavors/f', { json: { capabilities: {} }, headers: admin })).body)
      .toEqual({ title: 'Invalid request body', description: '`pool_list` needs to be specified' });
    expect((await zaqar.patch('/v2/flavors/f', { json: { pool_list: ['ghost'] }, headers: admin })).status).toBe(404);
    await putPool(zaqar, 'fp', { uri: 'redis://h:1/fp', weight: 1 });
    await zaqar.put('/v2/flavors/f', { json: { pool_list: ['fp'] }, headers: admin });
    expect(errorOf(await zaqar.patch('/v2/flavors/f', { json: { pool_list: ['ghost'] }, headers: admin })).title).toBe('updatefail');
    await zaqar.delete('/v2/flavors/f', { headers: admin });
    await zaqar.delete('/v2/pools/fp', { headers: admin });
  });

  test('_flavor on queue PUT must name a flavor of the project; the catalogue survives a restart', async () => {
    const zaqar = http();
    expect((await zaqar.put('/v2/queues/q', { json: { _flavor: 'silver' } })).body)
      .toEqual({ title: 'Invalid API request', description: 'Flavor silver does not exist' });
    await putPool(zaqar, 'sp', { uri: 'redis://h:1/sp', weight: 5 });
    expect((await zaqar.put('/v2/flavors/silver', { json: { pool_list: ['sp'] }, headers: admin })).status).toBe(201);
    expect((await zaqar.put('/v2/queues/q', { json: { _flavor: 'silver' } })).status).toBe(201);
    expect((await zaqar.get('/v2/queues/q')).body).toMatchObject({ _flavor: 'silver' });

    await server.restart();
    const after = new ZaqarHttp(server.url, zaqar.project);
    expect((await after.get('/v2/flavors/silver')).body).toMatchObject({ pool_list: ['sp'] });
    expect((await after.get('/v2/pools/sp', { headers: admin })).body).toMatchObject({ uri: 'redis://h:1/sp', weight: 5, flavor: 'silver' });
  });
});

describe('WebSocket actions', () => {
  test('pool and flavor actions run the same operations', async () => {
    expect((await wsAction(server.url, 'pool_create', { pool_name: 'wsp', uri: 'redis://h:1/wsp', weight: 7 })).status).toBe(201);
    expect(await wsAction(server.url, 'pool_get', { pool_name: 'wsp' }))
      .toEqual({ status: 200, body: { name: 'wsp', uri: 'redis://h:1/wsp', weight: 7, flavor: null, href: '/v2/pools/wsp' } });
    expect((await wsAction(server.url, 'flavor_create', { flavor_name: 'wsf', pool_name: 'wsp' })).status).toBe(201);
    expect((await wsAction(server.url, 'flavor_get', { flavor_name: 'wsf' })).body).toMatchObject({ pool_list: ['wsp'] });
    expect((await wsAction(server.url, 'flavor_delete', { flavor_name: 'wsf' })).status).toBe(204);
    expect((await wsAction(server.url, 'pool_delete', { pool_name: 'wsp' })).status).toBe(204);
  });
});

describe('without admin mode', () => {
  test('pools and flavors are not routed', async () => {
    const plain = await LaunchedServer.start();
    try {
      const zaqar = new ZaqarHttp(plain.url);
      expect((await zaqar.get('/v2/pools', { headers: admin })).status).toBe(404);
      expect((await zaqar.get('/v2/flavors', { headers: admin })).status).toBe(404);
      expect((await wsAction(plain.url, 'pool_get', { pool_name: 'x' })).status).toBe(404);
      // `_flavor` is then plain metadata, as without pooling in the reference.
      expect((await zaqar.put('/v2/queues/q', { json: { _flavor: 'none' } })).status).toBe(201);
    } finally {
      await plain.stop();
    }
  });
});

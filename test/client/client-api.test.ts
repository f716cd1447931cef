/**
 * zaqar-ts/client against the real server process, once per transport (HTTP, WebSocket
 * with JSON frames, WebSocket with MessagePack frames): the same scenario — queues,
 * messages, claims, stats, ping — must give the same normalised results, which proves
 * the client hides the wire differences and that both server transports implement the
 * operations alike. Server errors surface as ZaqarError with the server's status.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient, ZaqarError, type ZaqarClient } from '../../src/client/zaqar-client.js';
import { LaunchedServer } from '../support/server-launcher.js';

let server: LaunchedServer;

beforeAll(async () => {
  server = await LaunchedServer.start();
});

afterAll(async () => {
  await server?.stop();
});

const transports = [
  ['http', () => server.url, undefined],
  ['ws-json', () => `${server.url.replace(/^http/, 'ws')}/`, 'json'],
  ['ws-msgpack', () => `${server.url.replace(/^http/, 'ws')}/`, 'msgpack'],
] as const;

for (const [name, url, encoding] of transports) {
  describe(`client over ${name}`, () => {
    let client: ZaqarClient;

    beforeAll(() => {
      client = createClient({ url: url(), project: `p-${randomUUID()}`, ...(encoding === undefined ? {} : { encoding }) });
    });
    afterAll(async () => {
      await client.close();
    });

    test('createQueue, listQueues, getQueueMetadata and deleteQueue', async () => {
      expect(await client.createQueue('q1', { description: 'billing' })).toEqual({ created: true });
      expect(await client.createQueue('q1')).toEqual({ created: false });
      await client.createQueue('q2');
      const page = await client.listQueues({ limit: 1 });
      expect(page.items.map((q) => q.name)).toEqual(['q1']);
      const rest = await client.listQueues({ marker: page.nextMarker ?? '' });
      expect(rest.items.map((q) => q.name)).toEqual(['q2']);
      expect((await client.getQueueMetadata('q1'))['description']).toBe('billing');
      await client.deleteQueue('q1');
      await client.deleteQueue('q2');
      expect((await client.listQueues()).items).toEqual([]);
    });

    test('postMessages, getMessage(s), listMessages, deleteMessage(s), popMessages and queueStats', async () => {
      const ids = await client.postMessages('mq', [{ body: { n: 1 }, ttl: 120 }, { body: 'two' }, { body: [3] }]);
      expect(ids).toHaveLength(3);
      const first = await client.getMessage('mq', ids[0] ?? '');
      expect(first).toMatchObject({ id: ids[0], ttl: 120, body: { n: 1 }, claimId: null });
      expect((await client.getMessages('mq', ids)).map((m) => m.id).sort()).toEqual([...ids].sort());
      expect(await client.getMessages('mq', ['nothing-here'])).toEqual([]);
      expect((await client.listMessages('mq')).items).toEqual([]);
      const listed = await client.listMessages('mq', { echo: true });
      expect(listed.items.map((m) => m.id)).toEqual(ids);
      const stats = await client.queueStats('mq');
      expect(stats).toMatchObject({ total: 3, free: 3, claimed: 0 });
      expect(stats.oldest?.id).toBe(ids[0]);
      await client.deleteMessage('mq', ids[0] ?? '');
      await client.deleteMessages('mq', [ids[1] ?? '']);
      const popped = await client.popMessages('mq', 5);
      expect(popped.map((m) => m.body)).toEqual([[3]]);
      expect((await client.queueStats('mq')).total).toBe(0);
      await expect(client.getMessage('mq', ids[0] ?? '')).rejects.toMatchObject({ status: 404 });
    });

    test('claimMessages, getClaim, renewClaim, deleteMessage with the claim id and releaseClaim', async () => {
      expect(await client.claimMessages('cq')).toBeUndefined();
      await client.postMessages('cq', [{ body: 1 }, { body: 2 }, { body: 3 }]);
      const claim = await client.claimMessages('cq', { ttl: 60, grace: 60, limit: 2 });
      expect(claim?.messages.map((m) => m.body)).toEqual([1, 2]);
      const claimId = claim?.id ?? '';
      expect(claim?.messages.every((m) => m.claimId === claimId)).toBe(true);
      const info = await client.getClaim('cq', claimId);
      expect(info).toMatchObject({ id: claimId, ttl: 60 });
      await client.renewClaim('cq', claimId, { ttl: 120 });
      expect((await client.getClaim('cq', claimId)).ttl).toBe(120);
      const held = claim?.messages[0]?.id ?? '';
      const refused = await client.deleteMessage('cq', held).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ZaqarError);
      expect((refused as ZaqarError).status).toBe(403);
      await client.deleteMessage('cq', held, { claimId });
      expect((await client.queueStats('cq')).claimed).toBe(1);
      await client.releaseClaim('cq', claimId);
      expect((await client.queueStats('cq'))).toMatchObject({ claimed: 0, free: 2 });
      await expect(client.getClaim('cq', claimId)).rejects.toMatchObject({ status: 404 });
      await client.purgeQueue('cq', ['messages']);
      expect((await client.queueStats('cq')).total).toBe(0);
    });

    test('ping answers and invalid input is a 400 ZaqarError', async () => {
      expect(await client.ping()).toBe(true);
      await expect(client.claimMessages('cq', { limit: 21 })).rejects.toMatchObject({ status: 400 });
      await expect(client.postMessages('bad name!', [{ body: 1 }])).rejects.toMatchObject({ status: 400 });
    });
  });
}

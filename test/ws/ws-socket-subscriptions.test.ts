/**
 * Socket subscriptions (zaqar-websocket.md §8) against the real server process: a
 * `subscription_create` without subscriber creates a subscription whose subscriber URL
 * points back at the node (`/ws-notifications/<id>`); a notification POSTed there is
 * pushed to that socket verbatim, as MessagePack when the subscription was created in a
 * binary frame; closing the socket deletes its subscriptions. Oversized notification
 * bodies are refused with 413.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { exchange, RawWs } from './raw-ws.js';

let server: LaunchedServer;
let wsUrl: string;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': `p-${randomUUID()}` };

beforeAll(async () => {
  server = await LaunchedServer.start({ config: { ws_max_payload_bytes: 64 * 1024 } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/`;
});

afterAll(async () => {
  await server?.stop();
});

interface Reply {
  readonly headers: { readonly status: number };
  readonly body: { readonly subscription_id?: string; readonly message?: string;
    readonly subscriptions?: ReadonlyArray<{ readonly subscriber: string; readonly ttl: number }> };
}

async function listSubscriptions(ws: RawWs): Promise<Reply['body']['subscriptions']> {
  const reply = await exchange(ws, { action: 'subscription_list', headers, body: { queue_name: 'kitkat' } }, 'json');
  return (reply.document as Reply).body.subscriptions;
}

test('a socket subscription receives notifications in its encoding and disappears with the socket', async () => {
  const subscriber = await RawWs.open(wsUrl);
  const created = await exchange(subscriber, { action: 'subscription_create', headers,
    body: { queue_name: 'kitkat', ttl: 600 } }, 'msgpack');
  expect(created.document).toMatchObject({ headers: { status: 201 }, body: { message: 'Subscription kitkat created.' } });
  const observer = await RawWs.open(wsUrl);
  const [subscription] = (await listSubscriptions(observer)) ?? [];
  expect(subscription?.ttl).toBe(600);
  const url = subscription?.subscriber ?? '';
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ws-notifications\/[0-9a-f-]{36}$/);

  const notification = { body: { status: 'disco queen' }, ttl: 60, queue_name: 'kitkat', Message_Type: 'Notification' };
  const posted = await fetch(url, { method: 'POST', body: JSON.stringify(notification) });
  expect(posted.status).toBe(200);
  const pushed = await subscriber.next();
  expect(pushed).toEqual({ isBinary: true, document: notification });

  const tooLarge = await fetch(url, { method: 'POST', body: 'x'.repeat(65 * 1024) });
  expect(tooLarge.status).toBe(413);
  const unknown = await fetch(url.replace(/[0-9a-f-]{36}$/, randomUUID()), { method: 'POST', body: '{}' });
  expect(unknown.status).toBe(200);

  await subscriber.close();
  const deadline = Date.now() + 10_000;
  while (((await listSubscriptions(observer)) ?? []).length > 0) {
    if (Date.now() > deadline) throw new Error('socket subscription not deleted after close');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await observer.close();
});

/**
 * Black-box notification delivery from a real `zaqar-ts serve` process to real
 * receivers: a node:http webhook receiver and an aiosmtpd SMTP server. Proves the
 * webhook format (headers, body, post_data template), retries of a receiver answering
 * 500 (attempt count, not timing), mailto: through SMTP, topic fan-out to every
 * subscription kind (two webhooks and a zaqar:// queue), a subscription outliving its
 * deleted queue (notified again after the next post), WebSocket socket subscribers
 * (pushed frames for messages posted over HTTP), and that a node killed with
 * kill -9 mid-delivery notifies every message once restarted on its data.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { exchange, RawWs } from '../ws/raw-ws.js';
import { SmtpServer, waitFor, WebhookReceiver } from './support/receivers.js';

let server: LaunchedServer;
let receiver: WebhookReceiver;
let smtp: SmtpServer;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  smtp = await SmtpServer.start();
  server = await LaunchedServer.start({
    config: { notification: { smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_sender: 'zaqar@test.example' } },
  });
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  await smtp?.stop();
});

function documents(path: string): unknown[] {
  return receiver.to(path).map((r) => JSON.parse(r.text) as unknown);
}

async function subscribe(zaqar: ZaqarHttp, queue: string, body: Record<string, unknown>, base = 'queues'): Promise<string> {
  const reply = await zaqar.post(`/v2/${base}/${queue}/subscriptions`, { json: body });
  expect(reply.status).toBe(201);
  return (reply.body as { subscription_id: string }).subscription_id;
}

describe('notification delivery', () => {
  test('webhooks get one POST per message in the spec format, with post_headers; post_data is a template', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await subscribe(zaqar, 'orders', { subscriber: `${receiver.url}/plain`, options: { post_headers: { 'X-Token': 'abc' } } });
    await subscribe(zaqar, 'orders', { subscriber: `${receiver.url}/template`, options: { post_data: '{"payload": "$zaqar_message$", "source": "zaqar"}' } });
    await zaqar.postMessages('orders', [{ body: { event: 'BackupStarted' }, ttl: 300 }, { body: 2, ttl: 300 }]);
    await waitFor('both webhooks to get both messages', () => receiver.to('/plain').length >= 2 && receiver.to('/template').length >= 2);
    const expected = [
      { body: { event: 'BackupStarted' }, ttl: 300, queue_name: 'orders', Message_Type: 'Notification' },
      { body: 2, ttl: 300, queue_name: 'orders', Message_Type: 'Notification' },
    ];
    expect(documents('/plain')).toEqual(expected);
    expect(receiver.to('/plain')[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'x-token': 'abc' });
    expect(documents('/template')).toEqual(expected.map((payload) => ({ payload, source: 'zaqar' })));
  });

  test('a receiver answering 500 twice gets the message on the third attempt, and nothing more', async () => {
    const zaqar = new ZaqarHttp(server.url);
    receiver.answer('/flaky', (_request, attempt) => ({ status: attempt <= 2 ? 500 : 204 }));
    await subscribe(zaqar, 'flaky', { subscriber: `${receiver.url}/flaky` });
    await zaqar.postMessages('flaky', [{ body: 'once' }]);
    await waitFor('three attempts', () => receiver.to('/flaky').length >= 3);
    // A later message arrives only after the first one's success was recorded: the line is in order.
    await zaqar.postMessages('flaky', [{ body: 'next' }]);
    await waitFor('the next message', () => receiver.to('/flaky').length >= 4);
    expect(documents('/flaky').map((d) => (d as { body: unknown }).body)).toEqual(['once', 'once', 'once', 'next']);
  });

  test('mailto: subscribers get the document by SMTP, subject from the URI', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await subscribe(zaqar, 'mailed', { subscriber: 'mailto:ops@example.com?subject=Zaqar%20alert', options: { from: 'queue@example.com' } });
    await zaqar.postMessages('mailed', [{ body: { disk: 'full' }, ttl: 120 }]);
    await waitFor('the mail', async () => (await smtp.mails()).length >= 1);
    const [mail] = await smtp.mails();
    expect(mail?.headers).toMatch(/^To: ops@example\.com$/m);
    expect(mail?.headers).toMatch(/^From: queue@example\.com$/m);
    expect(mail?.headers).toMatch(/^Subject: Zaqar alert$/m);
    expect(JSON.parse(mail?.body.trim() ?? '')).toEqual({ body: { disk: 'full' }, ttl: 120, queue_name: 'mailed', Message_Type: 'Notification' });
  });

  test('a deleted queue keeps its subscription, which is notified again once the queue is posted to', async () => {
    const zaqar = new ZaqarHttp(server.url);
    await subscribe(zaqar, 'reborn', { subscriber: `${receiver.url}/reborn` });
    await zaqar.postMessages('reborn', [{ body: 'first life', ttl: 300 }]);
    await waitFor('the first notification', () => receiver.to('/reborn').length >= 1);
    expect((await zaqar.delete('/v2/queues/reborn')).status).toBe(204);
    await zaqar.postMessages('reborn', [{ body: 'second life', ttl: 300 }]);
    await waitFor('the notification after the delete', () => receiver.to('/reborn').length >= 2);
    expect(documents('/reborn').map((d) => (d as { body: unknown }).body)).toEqual(['first life', 'second life']);
  });

  test('a topic fans out to every subscription: two webhooks and a zaqar:// queue', async () => {
    const zaqar = new ZaqarHttp(server.url);
    expect((await zaqar.put('/v2/topics/news')).status).toBe(201);
    await subscribe(zaqar, 'news', { subscriber: `${receiver.url}/fan-a` }, 'topics');
    await subscribe(zaqar, 'news', { subscriber: `${receiver.url}/fan-b` }, 'topics');
    await subscribe(zaqar, 'news', { subscriber: 'zaqar://news-copy' }, 'topics');
    const posted = await zaqar.post('/v2/topics/news/messages', { json: { messages: [1, 2, 3].map((n) => ({ body: { n } })) } });
    expect(posted.status).toBe(201);
    await waitFor('both webhooks', () => receiver.to('/fan-a').length >= 3 && receiver.to('/fan-b').length >= 3);
    const bodies = [1, 2, 3].map((n) => ({ body: { n }, ttl: 3600, queue_name: 'news', Message_Type: 'Notification' }));
    expect(documents('/fan-a')).toEqual(bodies);
    expect(documents('/fan-b')).toEqual(bodies);
    let copied: unknown[] = [];
    await waitFor('the forwarded copies', async () => {
      const page = await zaqar.get('/v2/queues/news-copy/messages?echo=true');
      copied = page.status === 200 ? (page.body as { messages: { body: unknown }[] }).messages.map((m) => m.body) : [];
      return copied.length >= 3;
    });
    expect(copied).toEqual(bodies);
    // Topics are not queues: the topic is not listed among the project's queues.
    const queues = (await zaqar.get('/v2/queues')).body as { queues: { name: string }[] };
    expect(queues.queues.map((q) => q.name)).toEqual(['news-copy']);
  });

  test('a socket subscription gets every message posted to its queue pushed as a frame', async () => {
    const zaqar = new ZaqarHttp(server.url);
    const headers = { 'Client-ID': zaqar.clientId, 'X-Project-ID': zaqar.project };
    const socket = await RawWs.open(`${server.url.replace(/^http/, 'ws')}/`);
    const created = await exchange(socket, { action: 'subscription_create', headers, body: { queue_name: 'pushed', ttl: 600 } }, 'json');
    expect((created.document as { headers: { status: number } }).headers.status).toBe(201);
    await zaqar.postMessages('pushed', [{ body: { n: 1 }, ttl: 60 }, { body: { n: 2 }, ttl: 60 }]);
    const frames = [await socket.next(), await socket.next()];
    expect(frames.map((f) => f.document)).toEqual([1, 2].map((n) => ({ body: { n }, ttl: 60, queue_name: 'pushed', Message_Type: 'Notification' })));
    await socket.close();
  });

  test('kill -9 mid-delivery: after a restart every message is notified', async () => {
    const zaqar = new ZaqarHttp(server.url);
    receiver.answer('/slow', () => ({ status: 200, delayMs: 100 }));
    await subscribe(zaqar, 'crashy', { subscriber: `${receiver.url}/slow` });
    const count = 30;
    for (let i = 0; i < count; i += 10) {
      await zaqar.postMessages('crashy', Array.from({ length: 10 }, (_, j) => ({ body: { n: i + j } })));
    }
    await waitFor('deliveries to start', () => receiver.to('/slow').length >= 3);
    await server.crash();
    const beforeCrash = receiver.to('/slow').length;
    expect(beforeCrash).toBeLessThan(count);
    await server.restart();
    const seen = (): Set<number> => new Set(documents('/slow').map((d) => (d as { body: { n: number } }).body.n));
    await waitFor('every message notified', () => seen().size === count, 90_000);
    expect([...seen()].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, n) => n));
  });
});

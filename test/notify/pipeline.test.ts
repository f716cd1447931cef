/**
 * The `message_pipeline` switch and confirmation e-mails, against a real `zaqar-ts serve`
 * process, a real webhook receiver and an aiosmtpd SMTP server (zaqar-semantics.md §9.1,
 * §9.6, §9.7). With the pipeline empty, a webhook subscriber still gets its signed
 * confirmation request but no notification: the message is passed over (waited for on
 * `zaqar_notification_skipped_total`, not on time) and not sent even after a restart that
 * adds the notifier stage (as a comma string), after which new messages are notified.
 * A mailto: subscriber gets the templated confirmation e-mail on create and on a repeated
 * POST, whose link carries a signature that confirms the subscription, and the
 * unsubscribe e-mail on `confirmed: false`; without `external_confirmation_url` no
 * e-mail is sent (the failure is logged instead).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { SmtpServer, waitFor, WebhookReceiver } from './support/receivers.js';

let server: LaunchedServer;
let receiver: WebhookReceiver;
let smtp: SmtpServer;
const confirmationPage = 'https://confirm.example/zaqar';

function config(extra: { pipeline: unknown; confirmationUrl?: string }): Record<string, unknown> {
  return {
    storage: { message_pipeline: extra.pipeline },
    signed_url: { secret_key: 'pipeline-key' },
    notification: {
      require_confirmation: true,
      smtp_host: '127.0.0.1',
      smtp_port: smtp.port,
      ...(extra.confirmationUrl === undefined ? {} : { external_confirmation_url: extra.confirmationUrl }),
    },
  };
}

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  smtp = await SmtpServer.start();
  server = await LaunchedServer.start({ config: config({ pipeline: [], confirmationUrl: confirmationPage }) });
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  await smtp?.stop();
});

async function skippedCount(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = /^zaqar_notification_skipped_total\{kind="http"\} (\d+)/m.exec(text);
  return Number(match?.[1] ?? 0);
}

/** The signed headers a confirmation document or link carries, for the confirm PUT. */
function signedHeaders(zaqar: ZaqarHttp, fields: { signature: string; methods: string; paths: string; expires: string; project: string }): Record<string, string> {
  return {
    'URL-Signature': fields.signature, 'URL-Methods': fields.methods, 'URL-Paths': fields.paths,
    'URL-Expires': fields.expires, 'X-Project-ID': fields.project, 'Client-ID': zaqar.clientId,
  };
}

test('without the notifier stage only the confirmation goes out; messages posted then are never notified, later ones are', async () => {
  const zaqar = new ZaqarHttp(server.url);
  const created = await zaqar.post('/v2/queues/quiet/subscriptions', { json: { subscriber: `${receiver.url}/quiet` } });
  expect(created.status).toBe(201);
  await waitFor('the confirmation request', () => receiver.to('/quiet').length >= 1);
  const request = JSON.parse(receiver.to('/quiet')[0]?.text ?? '{}') as Record<string, string>;
  expect(request['Message_Type']).toBe('SubscriptionConfirmation');
  const headers = signedHeaders(zaqar, {
    signature: request['URL-Signature'] ?? '', methods: request['URL-Methods'] ?? '', paths: request['URL-Paths'] ?? '',
    expires: request['URL-Expires'] ?? '', project: request['X-Project-ID'] ?? '',
  });
  expect((await zaqar.put(request['URL-Paths'] ?? '', { json: { confirmed: true }, headers })).status).toBe(204);

  const skippedBefore = await skippedCount();
  await zaqar.postMessages('quiet', [{ body: 'while off' }]);
  await waitFor('the message to be passed over', async () => (await skippedCount()) > skippedBefore);
  expect(receiver.to('/quiet')).toHaveLength(1);

  await server.restart(config({ pipeline: 'zaqar.notification.notifier', confirmationUrl: confirmationPage }));
  const restarted = new ZaqarHttp(server.url, zaqar.project, zaqar.clientId);
  await restarted.postMessages('quiet', [{ body: 'while on' }]);
  await waitFor('the notification', () => receiver.to('/quiet').length >= 2);
  expect(receiver.to('/quiet').slice(1).map((r) => (JSON.parse(r.text) as { body: unknown }).body)).toEqual(['while on']);
});

test('a mailto: subscriber gets templated confirmation e-mails whose link confirms it, and the unsubscribe e-mail', async () => {
  const zaqar = new ZaqarHttp(server.url);
  const mailsBefore = (await smtp.mails()).length;
  const subscriber = { subscriber: 'mailto:ops@example.com?subject=Alerts' };
  const created = await zaqar.post('/v2/queues/mailed/subscriptions', { json: subscriber });
  expect(created.status).toBe(201);
  const id = (created.body as { subscription_id: string }).subscription_id;
  await waitFor('the confirmation e-mail', async () => (await smtp.mails()).length >= mailsBefore + 1);
  expect((await zaqar.post('/v2/queues/mailed/subscriptions', { json: subscriber })).body).toEqual({ subscription_id: id });
  await waitFor('the repeated confirmation e-mail', async () => (await smtp.mails()).length >= mailsBefore + 2);

  const mail = (await smtp.mails()).find((m) => /^Subject: Zaqar Notification - Subscription Confirmation$/m.test(m.headers));
  expect(mail?.headers).toMatch(/^To: ops@example\.com$/m);
  expect(mail?.headers).toMatch(/^From: Zaqar Notifications <no-reply@openstack\.org>$/m);
  const text = (mail?.body ?? '').replace(/\s+$/, '');
  const link = /link below: (\S+)$/.exec(text)?.[1] ?? '';
  expect(text).toBe('You have chosen to subscribe to the queue: mailed. This queue belongs to project: '
    + `${zaqar.project}. To confirm this subscription, click or visit this link below: ${link}`);
  const paths = `/v2/queues/mailed/subscriptions/${id}/confirm`;
  expect(link).toMatch(new RegExp(`^${confirmationPage}\\?Signature=[0-9a-f]{64}&Methods=PUT&Paths=${paths}`
    + `&Project=${zaqar.project}&Expires=[0-9T:-]+&Url=&Queue=mailed$`));

  // The page behind the link confirms with the signed fields it was given.
  const query = new URLSearchParams(link.slice(link.indexOf('?') + 1));
  const headers = signedHeaders(zaqar, {
    signature: query.get('Signature') ?? '', methods: query.get('Methods') ?? '', paths: query.get('Paths') ?? '',
    expires: query.get('Expires') ?? '', project: query.get('Project') ?? '',
  });
  expect((await zaqar.put(paths, { json: { confirmed: true }, headers })).status).toBe(204);
  expect((await zaqar.get(`/v2/queues/mailed/subscriptions/${id}`)).body).toMatchObject({ confirmed: true });
  expect((await zaqar.put(paths, { json: { confirmed: false }, headers })).status).toBe(204);
  await waitFor('the unsubscribe e-mail', async () => (await smtp.mails()).some((m) => /^Subject: Zaqar Notification - Unsubscribe Confirmation$/m.test(m.headers)));
  const goodbye = (await smtp.mails()).find((m) => /Unsubscribe Confirmation$/m.test(m.headers));
  expect(goodbye?.body).toMatch(/^You have unsubscribed successfully to the queue: mailed\. This queue belongs to project: /);
});

test('without external_confirmation_url a mailto: subscriber gets no confirmation e-mail', async () => {
  await server.restart(config({ pipeline: [] }));
  const zaqar = new ZaqarHttp(server.url);
  const mailsBefore = (await smtp.mails()).length;
  expect((await zaqar.post('/v2/queues/unmailed/subscriptions', { json: { subscriber: 'mailto:nobody@example.com' } })).status).toBe(201);
  await waitFor('the refused confirmation e-mail in the log', () => server.log.includes('no confirmation e-mail without notification.external_confirmation_url'));
  expect(await smtp.mails()).toHaveLength(mailsBefore);
});

/**
 * The confirmation flow with `[notification] require_confirmation` on, against a real
 * server process and a real webhook receiver: a new subscription gets a signed
 * SubscriptionConfirmation document (again on a repeated POST) and no notifications;
 * the subscriber confirms with the pre-signed headers it received (nothing else), after
 * which messages are delivered; a tampered signature is refused; `confirmed: false`
 * sends an UnsubscribeConfirmation and stops the notifications.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { waitFor, WebhookReceiver } from './support/receivers.js';

let server: LaunchedServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  server = await LaunchedServer.start({ config: { signed_url: { secret_key: 'confirm-key' }, notification: { require_confirmation: true } } });
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

interface Confirmation {
  readonly Message_Type: string;
  readonly 'URL-Signature': string;
  readonly 'URL-Methods': string;
  readonly 'URL-Paths': string;
  readonly 'URL-Expires': string;
  readonly 'X-Project-ID': string;
  readonly SubscribeBody: unknown;
}

test('only a subscriber that confirmed with the signed URL gets notifications', async () => {
  const zaqar = new ZaqarHttp(server.url);
  const created = await zaqar.post('/v2/queues/confirmed/subscriptions', { json: { subscriber: `${receiver.url}/confirm-me` } });
  expect(created.status).toBe(201);
  const id = (created.body as { subscription_id: string }).subscription_id;
  await waitFor('the confirmation request', () => receiver.to('/confirm-me').length >= 1);
  const again = await zaqar.post('/v2/queues/confirmed/subscriptions', { json: { subscriber: `${receiver.url}/confirm-me` } });
  expect(again.body).toEqual({ subscription_id: id });
  await waitFor('the repeated confirmation request', () => receiver.to('/confirm-me').length >= 2);
  const request = JSON.parse(receiver.to('/confirm-me')[1]?.text ?? '{}') as Confirmation;
  expect(request).toMatchObject({ Message_Type: 'SubscriptionConfirmation', 'URL-Methods': 'PUT', 'X-Project-ID': zaqar.project,
    'URL-Paths': `/v2/queues/confirmed/subscriptions/${id}/confirm`, SubscribeBody: { confirmed: true } });

  await zaqar.postMessages('confirmed', [{ body: 'before' }]);
  // Posted while unconfirmed: never notified (confirming starts at the next message).
  const signed = {
    'URL-Signature': request['URL-Signature'], 'URL-Methods': request['URL-Methods'], 'URL-Paths': request['URL-Paths'],
    'URL-Expires': request['URL-Expires'], 'X-Project-ID': request['X-Project-ID'], 'Client-ID': zaqar.clientId,
  };
  const subscriber = new ZaqarHttp(server.url, request['X-Project-ID'], zaqar.clientId);
  const tampered = await subscriber.put(request['URL-Paths'], { json: request.SubscribeBody, headers: { ...signed, 'URL-Signature': '0'.repeat(64) } });
  expect(tampered.status).toBe(404);
  const confirmed = await subscriber.put(request['URL-Paths'], { json: request.SubscribeBody, headers: signed });
  expect(confirmed.status).toBe(204);
  await zaqar.postMessages('confirmed', [{ body: 'after' }]);
  await waitFor('the notification after confirmation', () => receiver.to('/confirm-me').length >= 3);
  const notified = receiver.to('/confirm-me').slice(2).map((r) => (JSON.parse(r.text) as { body: unknown }).body);
  expect(notified).toEqual(['after']);
  expect((await zaqar.get(`/v2/queues/confirmed/subscriptions/${id}`)).body).toMatchObject({ confirmed: true });

  expect((await subscriber.put(request['URL-Paths'], { json: { confirmed: false }, headers: signed })).status).toBe(204);
  await waitFor('the unsubscribe confirmation', () => receiver.to('/confirm-me').length >= 4);
  expect(JSON.parse(receiver.to('/confirm-me')[3]?.text ?? '{}')).toMatchObject({ Message_Type: 'UnsubscribeConfirmation', 'URL-Paths': request['URL-Paths'] });
});

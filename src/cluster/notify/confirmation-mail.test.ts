/**
 * Confirmation e-mails of mailto: subscribers: Python-style positional formatting of the
 * template body, the reference's link layout, other documents left to the plain mail, and
 * refusal without an external confirmation URL.
 */
import { describe, expect, test } from 'vitest';
import { confirmationMail, formatPositional } from './confirmation-mail.js';

const settings = {
  externalConfirmationUrl: 'https://confirm.example/page',
  subscribe: { topic: 'Confirm', body: 'Queue {0} of {1}: {2} {{literal}} {7}', sender: 'Zaqar <z@example.com>' },
  unsubscribe: { topic: 'Bye', body: 'Left {0}', sender: 'Zaqar <z@example.com>' },
};

const document = {
  Message_Type: 'SubscriptionConfirmation',
  'URL-Signature': 'abc123',
  'URL-Methods': 'PUT',
  'URL-Paths': '/v2/queues/q1/subscriptions/s1/confirm',
  'X-Project-ID': 'proj',
  'URL-Expires': '2026-07-06T04:35:56',
};

describe('confirmationMail', () => {
  test('formats the subscribe template with queue, project and the reference link', () => {
    const mail = confirmationMail(document, { address: 'a@example.com', queue: 'q1' }, settings);
    const link = 'https://confirm.example/page?Signature=abc123&Methods=PUT&Paths=/v2/queues/q1/subscriptions/s1/confirm'
      + '&Project=proj&Expires=2026-07-06T04:35:56&Url=&Queue=q1';
    expect(mail).toEqual({ from: 'Zaqar <z@example.com>', to: 'a@example.com', subject: 'Confirm', text: `Queue q1 of proj: ${link} {literal} {7}` });
  });

  test('uses the unsubscribe template for an UnsubscribeConfirmation, and leaves other documents alone', () => {
    const mail = confirmationMail({ ...document, Message_Type: 'UnsubscribeConfirmation' }, { address: 'a@example.com', queue: 'q1' }, settings);
    expect(mail).toMatchObject({ subject: 'Bye', text: 'Left q1' });
    expect(confirmationMail({ body: 1, Message_Type: 'Notification' }, { address: 'a@example.com', queue: 'q1' }, settings)).toBeUndefined();
  });

  test('cannot make a confirmation e-mail without external_confirmation_url', () => {
    const { externalConfirmationUrl: _url, ...withoutUrl } = settings;
    expect(() => confirmationMail(document, { address: 'a@example.com', queue: 'q1' }, withoutUrl)).toThrow(/external_confirmation_url/);
  });

  test('formatPositional follows str.format for positional fields and doubled braces', () => {
    expect(formatPositional('{1}-{0}-{{0}}-}}', ['a', 'b'])).toBe('b-a-{0}-}');
  });
});

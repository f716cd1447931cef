/**
 * The e-mail a `mailto:` subscriber gets instead of a confirmation document
 * (zaqar-semantics.md §9.6-9.7, Zaqar's MailtoTask): subject, sender and body from the
 * `subscription_confirmation_email_template` / `unsubscribe_confirmation_email_template`,
 * the body formatted like Python's `str.format` with {0} queue, {1} project, {2} link, and
 * the link `<external_confirmation_url>?Signature=..&Methods=..&Paths=..&Project=..
 * &Expires=..&Url=<WSGISubscribeURL>&Queue=<q>`. The values are concatenated as the
 * reference does (no percent-encoding), so confirmation pages written for it keep working;
 * `Url` is empty since zaqar-ts has no Keystone catalog to take WSGISubscribeURL from.
 * Without `external_confirmation_url` no e-mail can be made and sending fails, as in the
 * reference (logged, not retried).
 */
import { DeliveryError, type NotificationDocument } from './notification.js';

/** One confirmation e-mail's template, as configured: `topic` is the subject, `body` takes {0} queue, {1} project, {2} link. */
export interface MailTemplate {
  readonly topic: string;
  readonly body: string;
  readonly sender: string;
}

export interface ConfirmationMailSettings {
  readonly externalConfirmationUrl?: string;
  readonly subscribe: MailTemplate;
  readonly unsubscribe: MailTemplate;
}

export interface MailContent {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** The e-mail for a (un)subscribe confirmation document; undefined for any other document. */
export function confirmationMail(document: NotificationDocument, to: { address: string; queue: string }, settings: ConfirmationMailSettings): MailContent | undefined {
  const kind = document['Message_Type'];
  if (kind !== 'SubscriptionConfirmation' && kind !== 'UnsubscribeConfirmation') return undefined;
  const base = settings.externalConfirmationUrl;
  if (base === undefined) throw new DeliveryError('no confirmation e-mail without notification.external_confirmation_url');
  const field = (name: string): string => {
    const value = document[name];
    return typeof value === 'string' ? value : '';
  };
  const link = `${base}?Signature=${field('URL-Signature')}&Methods=${field('URL-Methods')}&Paths=${field('URL-Paths')}`
    + `&Project=${field('X-Project-ID')}&Expires=${field('URL-Expires')}&Url=${field('WSGISubscribeURL')}&Queue=${to.queue}`;
  const template = kind === 'SubscriptionConfirmation' ? settings.subscribe : settings.unsubscribe;
  return {
    from: template.sender,
    to: to.address,
    subject: template.topic,
    text: formatPositional(template.body, [to.queue, field('X-Project-ID'), link]),
  };
}

/** Python's `str.format` for positional fields: `{n}` → args[n], `{{`/`}}` → a brace; unknown fields stay. */
export function formatPositional(template: string, args: readonly string[]): string {
  return template.replace(/\{\{|\}\}|\{(\d+)\}/g, (match, index: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    return args[Number(index)] ?? match;
  });
}

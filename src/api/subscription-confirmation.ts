/**
 * The confirmation request sent to a new unconfirmed subscriber when
 * `[notification] require_confirmation` is on (zaqar-semantics.md §9.6): a pre-signed URL
 * (§10) for `PUT .../subscriptions/<id>/confirm` of the subscription's project, expiring
 * with the subscription. Subscriptions of topics (their project carries the topic
 * namespace suffix) get the topic path. Undefined without a signing key.
 */
import type { JsonValue } from './json-body.js';
import { formatExpires, signUrl } from './signed-urls.js';
import { topicNamespaceSuffix } from './topics.js';

export interface ConfirmationSubject {
  readonly project: string;
  readonly queue: string;
  readonly id: string;
  readonly expiresMs: number;
  readonly kind: 'subscribe' | 'unsubscribe';
}

export function confirmationDocument(secretKey: string | undefined, subject: ConfirmationSubject): { [key: string]: JsonValue } | undefined {
  if (secretKey === undefined) return undefined;
  const isTopic = subject.project.endsWith(topicNamespaceSuffix);
  const project = isTopic ? subject.project.slice(0, -topicNamespaceSuffix.length) : subject.project;
  const path = `/v2/${isTopic ? 'topics' : 'queues'}/${subject.queue}/subscriptions/${subject.id}/confirm`;
  const expiresText = formatExpires(subject.expiresMs);
  return {
    ...(subject.kind === 'subscribe'
      ? { Message_Type: 'SubscriptionConfirmation', Message: `You have chosen to subscribe to the queue: ${subject.queue}` }
      : {
          Message_Type: 'UnsubscribeConfirmation',
          Message: `You have unsubscribed successfully to the queue: ${subject.queue}, you can resubscribe it by using confirmed=True.`,
        }),
    'URL-Signature': signUrl(secretKey, { paths: [path], methods: ['PUT'], project, expiresText }),
    'URL-Methods': 'PUT',
    'URL-Paths': path,
    'X-Project-ID': project,
    'URL-Expires': expiresText,
    SubscribeBody: { confirmed: true },
    UnsubscribeBody: { confirmed: false },
    queue_name: subject.queue,
  };
}

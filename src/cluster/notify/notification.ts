/**
 * What a notification carries (zaqar-semantics.md §9.3) and where it goes. The document
 * is built from the stored message at delivery time: `body`, `ttl`, `delay` when the
 * message was delayed, `queue_name` (the subscription's source) and `Message_Type`.
 * Every sender (webhook, mail, queue forward) implements NotificationSender and throws
 * on any failure, which the notifier retries on the subscription's retry policy.
 */

export type NotificationDocument = Readonly<Record<string, unknown>>;

/** The subscription a notification is for, as senders need it. */
export interface NotificationTarget {
  readonly subscriber: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** The subscription's project (a topic's namespace when the source is a topic). */
  readonly project: string;
  readonly queue: string;
}

export interface NotificationSender {
  /** Resolves once the subscriber accepted the document; throws otherwise. */
  send(target: NotificationTarget, document: NotificationDocument): Promise<void>;
}

export function notificationDocument(queue: string, message: { body: unknown; ttlSeconds: number; delaySeconds: number }): NotificationDocument {
  return {
    body: message.body,
    ttl: message.ttlSeconds,
    ...(message.delaySeconds > 0 ? { delay: message.delaySeconds } : {}),
    queue_name: queue,
    Message_Type: 'Notification',
  };
}

/** The subscriber URI's scheme, lower-cased: the bounded metrics label of a delivery. */
export function subscriberKind(subscriber: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(subscriber);
  return match?.[1]?.toLowerCase() ?? 'unknown';
}

/** A delivery that cannot succeed however often it is retried is still retried: failures are not classified. */
export class DeliveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

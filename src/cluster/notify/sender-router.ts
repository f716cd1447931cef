/**
 * Picks the sender of a subscriber by URI scheme: http/https → webhook (WebSocket
 * socket subscriptions are webhooks to the node's own notification route), mailto →
 * SMTP, zaqar → queue forward. A scheme without a configured sender fails every attempt.
 */
import { DeliveryError, subscriberKind, type NotificationDocument, type NotificationSender, type NotificationTarget } from './notification.js';

export class SenderRouter implements NotificationSender {
  constructor(private readonly byKind: Readonly<Partial<Record<string, NotificationSender>>>) {}

  send(target: NotificationTarget, document: NotificationDocument): Promise<void> {
    const kind = subscriberKind(target.subscriber);
    const sender = this.byKind[kind];
    if (sender === undefined) return Promise.reject(new DeliveryError(`no sender for ${kind} subscribers`));
    return sender.send(target, document);
  }
}

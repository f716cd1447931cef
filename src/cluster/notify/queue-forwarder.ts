/**
 * `zaqar://<queue>` subscribers: the notification document is posted as a message into
 * another queue of the same project on this service (the message's ttl is kept). A
 * subscription on a topic forwards to the project's queue of that name. The post is a
 * normal acknowledged write, so a forwarded notification is durable once `send` resolves;
 * a crash before that retries it (at least once, duplicates possible).
 */
import { DeliveryError, type NotificationDocument, type NotificationSender, type NotificationTarget } from './notification.js';

/** Posts one message: what the forwarder needs from the broker. */
export type PostMessage = (ref: { project: string; queue: string }, message: { body: unknown; ttlSeconds: number }) => Promise<void>;

const queueNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;

export function forwardTarget(target: NotificationTarget): { project: string; queue: string } | undefined {
  const queue = target.subscriber.replace(/^zaqar:(\/\/)?/i, '');
  if (!queueNamePattern.test(queue)) return undefined;
  // A namespace suffix (topics) starts at the first newline: forward into the project's queues.
  return { project: target.project.split('\n')[0] ?? target.project, queue };
}

export class QueueForwarder implements NotificationSender {
  constructor(private readonly post: PostMessage) {}

  async send(target: NotificationTarget, document: NotificationDocument): Promise<void> {
    const ref = forwardTarget(target);
    if (ref === undefined) throw new DeliveryError(`not a queue subscriber: ${target.subscriber}`);
    const ttl = document['ttl'];
    try {
      await this.post(ref, { body: document, ttlSeconds: typeof ttl === 'number' ? ttl : 3600 });
    } catch (cause) {
      throw new DeliveryError(`forward to queue ${ref.queue} failed`, { cause });
    }
  }
}

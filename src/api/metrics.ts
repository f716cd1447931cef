/**
 * Message traffic as the api sees it, counted once per acknowledged operation on the
 * node that served the request (so a cluster's totals are the sum over its nodes).
 * Counts are of messages, not requests. No queue or project names: they are unbounded.
 */
export interface ApiMetrics {
  messagesPosted(count: number): void;
  messagesClaimed(count: number): void;
  /** Deleted by id (single, bulk) or popped. */
  messagesDeleted(count: number): void;
}

export const noApiMetrics: ApiMetrics = {
  messagesPosted: () => undefined,
  messagesClaimed: () => undefined,
  messagesDeleted: () => undefined,
};

/**
 * Subscription notifications (webhook, email, ...). Not delivered yet: the interface
 * is fixed now so the notifier reports into metrics that dashboards already use.
 * `subscriberKind` is the subscriber's URI scheme (`http`, `https`, `mailto`,
 * `trust+http`): bounded, unlike the subscriber itself.
 */
export interface NotificationMetrics {
  delivered(subscriberKind: string): void;
  deliveryFailed(subscriberKind: string): void;
  /** Notifications waiting for delivery on this node. */
  backlog(count: number): void;
  /** Messages passed over unsent: `message_pipeline` lacks the notifier stage. */
  skipped(subscriberKind: string, count: number): void;
}

export const noNotificationMetrics: NotificationMetrics = {
  delivered: () => undefined,
  deliveryFailed: () => undefined,
  backlog: () => undefined,
  skipped: () => undefined,
};

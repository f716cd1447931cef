/**
 * What the api hands the broker to change a queue's subscriptions, and what it gets back
 * when reading them. Plain msgpack-safe data like records.ts; the shard-side meaning of
 * each change is in shard/subscription-writes.ts. A `create` carries no id: the broker
 * (the proposer) mints it.
 */
import type { SubscriptionOp, SubscriptionResult } from './shard/subscription-writes.js';

type CreateOp = Extract<SubscriptionOp, { op: 'create' }>;

export type SubscriptionChange = Omit<CreateOp, 'id'> | Exclude<SubscriptionOp, { op: 'create' }>;

export type { SubscriptionResult };

export interface SubscriptionRecord {
  readonly id: string;
  readonly subscriber: string;
  readonly options: Record<string, unknown>;
  readonly ttlSeconds: number;
  readonly createdMs: number;
  readonly expiresMs: number;
  readonly confirmed: boolean;
}

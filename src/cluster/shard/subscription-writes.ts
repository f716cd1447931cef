/**
 * The `subscription` command: every change to a queue's subscriptions (create, update,
 * delete, confirm, purge, expire) and to their delivery cursors goes through the log as
 * one of these ops, so every replica holds the same subscriptions and the same record of
 * which messages were already notified (zaqar-api-v2.md §9, zaqar-semantics.md §9).
 *
 * Subscriptions live in their queue's record (StoredQueue.subscriptions), in id order;
 * their number per queue is bounded by the proposer (`subscriptionsMax`). Creating a
 * subscription creates a missing or deleted queue (lazy queues). Deleting a queue keeps
 * its subscriptions in a deleted record (queue-existence.ts), which every other op here
 * works on like a live one and removes once it holds no subscription. Expired
 * subscriptions are dropped by every op on the queue before it runs, so an op never
 * sees or collides with one.
 *
 * Cursor invariant: `notifiedSeq` only grows, and starts at the queue's last seq when the
 * subscription is created, so only messages posted after creation are notified. Confirming
 * an unconfirmed subscription moves it to the queue's last seq too: as in the reference,
 * a subscription is notified of messages posted while it is confirmed (with confirmation
 * off, confirming is rare and drops at most that subscription's undelivered backlog).
 */
import type { StoredQueue, StoredSubscription } from '../../log/queue-store.js';
import { queueToCreate } from './queue-existence.js';
import { queueKey, type ShardContext } from './shard-context.js';

export type SubscriptionOp =
  | {
      readonly op: 'create';
      readonly id: string;
      readonly subscriber: string;
      readonly options: Record<string, unknown>;
      readonly ttlSeconds: number;
      readonly subscriptionsMax: number;
    }
  | {
      readonly op: 'update';
      readonly id: string;
      readonly subscriber: string | null;
      readonly options: Record<string, unknown> | null;
      readonly ttlSeconds: number | null;
    }
  | { readonly op: 'delete'; readonly id: string }
  | { readonly op: 'confirm'; readonly id: string; readonly confirmed: boolean }
  | { readonly op: 'purge' }
  /** Removes subscriptions expired at the command's time (and nothing else). */
  | { readonly op: 'expire' }
  /** Every message with seq <= notifiedSeq is notified to subscription `id`. */
  | { readonly op: 'progress'; readonly id: string; readonly notifiedSeq: number }
  /** The notice requested at `requestedMs` was sent: forget it (a newer request stays). */
  | { readonly op: 'noticeSent'; readonly id: string; readonly requestedMs: number };

export type SubscriptionOutcome = 'created' | 'existing' | 'conflict' | 'full' | 'updated' | 'missing' | 'done';

export interface SubscriptionResult {
  readonly outcome: SubscriptionOutcome;
  /** The subscription concerned (the existing one for a repeated create). */
  readonly id: string | null;
  /** Subscriptions removed (purge, expire, delete). */
  readonly removed: number;
}

export interface SubscriptionCommand {
  readonly type: 'subscription';
  readonly nowMs: number;
  readonly project: string;
  readonly queue: string;
  readonly op: SubscriptionOp;
}

function result(outcome: SubscriptionOutcome, id: string | null = null, removed = 0): SubscriptionResult {
  return { outcome, id, removed };
}

export function applySubscription(context: ShardContext, command: SubscriptionCommand, nowMs: number): SubscriptionResult {
  const key = queueKey(context, command.project, command.queue);
  const queue = context.store.getQueue(key);
  const all = queue?.subscriptions ?? [];
  const live = all.filter((s) => s.expiresMs > nowMs);
  const expired = all.length - live.length;
  const save = (next: StoredQueue, subscriptions: readonly StoredSubscription[]): void => {
    const { subscriptions: _old, ...rest } = next;
    // A deleted queue's record exists only for its subscriptions (queue-existence.ts).
    if (rest.isDeleted === true && subscriptions.length === 0) context.store.removeQueue(key);
    else context.store.putQueue(key, subscriptions.length === 0 ? rest : { ...rest, subscriptions });
  };
  const op = command.op;
  if (op.op === 'create') {
    // A subscription POST creates the queue, a deleted one included (zaqar-semantics.md §2).
    const base = queueToCreate(queue, { nowMs });
    const same = live.find((s) => s.subscriber === op.subscriber);
    if (same !== undefined && same.confirmed) {
      if (expired > 0 && queue !== undefined) save(queue, live);
      return result('conflict', same.id);
    }
    if (same !== undefined) {
      // A repeated create of an unconfirmed subscription asks for the confirmation again.
      const renewed: StoredSubscription = { ...same, pendingNotice: { kind: 'subscribe', requestedMs: nowMs } };
      save(base, live.map((s) => (s.id === same.id ? renewed : s)));
      return result('existing', same.id);
    }
    if (live.length >= op.subscriptionsMax) return result('full');
    const created: StoredSubscription = {
      id: op.id,
      subscriber: op.subscriber,
      options: op.options,
      ttlSeconds: op.ttlSeconds,
      createdMs: nowMs,
      expiresMs: nowMs + op.ttlSeconds * 1000,
      confirmed: false,
      notifiedSeq: base.nextSeq - 1,
      pendingNotice: { kind: 'subscribe', requestedMs: nowMs },
    };
    save(base, [...live, created]);
    return result('created', op.id);
  }
  if (queue === undefined) return result(op.op === 'purge' || op.op === 'expire' ? 'done' : 'missing');
  const changed = applyToLive(live, op, { nowMs, lastSeq: queue.nextSeq - 1 });
  if (changed.outcome !== 'missing' && changed.outcome !== 'conflict') save(queue, changed.subscriptions);
  else if (expired > 0) save(queue, live);
  return { ...changed.result, removed: changed.result.removed + expired };
}

interface Changed {
  readonly outcome: SubscriptionOutcome;
  readonly subscriptions: readonly StoredSubscription[];
  readonly result: SubscriptionResult;
}

function applyToLive(live: readonly StoredSubscription[], op: Exclude<SubscriptionOp, { op: 'create' }>, at: { nowMs: number; lastSeq: number }): Changed {
  const nowMs = at.nowMs;
  const unchanged = (outcome: SubscriptionOutcome, id: string | null = null): Changed => ({ outcome, subscriptions: live, result: result(outcome, id) });
  if (op.op === 'purge') return { outcome: 'done', subscriptions: [], result: result('done', null, live.length) };
  if (op.op === 'expire') return unchanged('done');
  const target = live.find((s) => s.id === op.id);
  if (target === undefined) return unchanged('missing');
  const replace = (next: StoredSubscription | null, outcome: SubscriptionOutcome): Changed => {
    const subscriptions = next === null ? live.filter((s) => s.id !== op.id) : live.map((s) => (s.id === op.id ? next : s));
    return { outcome, subscriptions, result: result(outcome, op.id, next === null ? 1 : 0) };
  };
  switch (op.op) {
    case 'delete':
      return replace(null, 'done');
    case 'confirm': {
      const { pendingNotice: _owed, ...rest } = target;
      const notice = op.confirmed ? {} : { pendingNotice: { kind: 'unsubscribe' as const, requestedMs: nowMs } };
      const isNewlyConfirmed = op.confirmed && !target.confirmed;
      const notifiedSeq = isNewlyConfirmed ? Math.max(target.notifiedSeq, at.lastSeq) : target.notifiedSeq;
      return replace({ ...rest, confirmed: op.confirmed, notifiedSeq, ...notice }, 'updated');
    }
    case 'noticeSent': {
      if (target.pendingNotice?.requestedMs !== op.requestedMs) return unchanged('done', op.id);
      const { pendingNotice: _sent, ...rest } = target;
      return replace(rest, 'updated');
    }
    case 'progress':
      return replace({ ...target, notifiedSeq: Math.max(target.notifiedSeq, op.notifiedSeq) }, 'updated');
    case 'update': {
      const subscriber = op.subscriber ?? target.subscriber;
      if (live.some((s) => s.id !== op.id && s.subscriber === subscriber)) return unchanged('conflict', op.id);
      const ttl = op.ttlSeconds === null ? {} : { ttlSeconds: op.ttlSeconds, expiresMs: nowMs + op.ttlSeconds * 1000 };
      return replace({ ...target, subscriber, ...(op.options === null ? {} : { options: op.options }), ...ttl }, 'updated');
    }
  }
}

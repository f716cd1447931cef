/**
 * Delivers notifications from the replicated queue state, on the node that leads each
 * shard (zaqar-semantics.md §9; the reference's fire-and-forget notifier replaced).
 *
 * Progress is log state: each subscription has a cursor `notifiedSeq` (StoredSubscription)
 * and a message is notified when the leader, after delivering it (or giving up after the
 * whole retry schedule), proposes a `progress` op moving the cursor past it. A leader
 * that dies mid-delivery leaves the cursor where it was, so the next leader delivers
 * again: at least once, duplicates possible, exactly one deliverer at a time per shard
 * (the one whose log reports it leader; a deposed leader stops before its next attempt).
 *
 * Isolation: each subscription has its own line (one message at a time, in seq order), at
 * most `linesMax` lines run at once, so a slow or dead subscriber delays only its own
 * notifications. Posting never waits for delivery. Bounded work: a subscription further
 * than `backlogMax` messages behind skips ahead (counted as failures), and only queues
 * found to hold subscriptions (rescanned every `rescanMs`, at most `watchedMax`) are looked at.
 *
 * Messages deleted or expired before their turn are skipped: their bodies are gone.
 * Without the notifier stage in `message_pipeline` (`deliversMessages` false) every
 * message is passed over unsent; confirmation notices are sent either way (§9.1).
 *
 * Confirmation (`requireConfirmation`): a message is sent only while its subscription is
 * confirmed, checked on the stored subscription before each attempt; an unconfirmed
 * line passes over its messages. Confirming moves the cursor to the queue's last seq in
 * the log (subscription-writes.ts), so a message posted while unconfirmed is never sent,
 * whether the line reached it before or after the confirmation applied.
 */
import type { Clock } from '../../common/clock.js';
import type { ShardId } from '../../common/ids.js';
import type { Delays, Timers } from '../../common/timers.js';
import type { QueueKey, QueueStore, StoredMessage, StoredSubscription } from '../../log/queue-store.js';
import type { QueueRef } from '../records.js';
import { decodeBody } from '../shard/body-codec.js';
import type { SubscriptionChange, SubscriptionResult } from '../subscription-records.js';
import { notificationDocument, subscriberKind, type NotificationDocument, type NotificationSender } from './notification.js';
import { retryDelaysSeconds, selectRetryPolicy } from './retry-policy.js';

/** What the notifier needs from the broker. */
export interface NotificationSource {
  readonly store: QueueStore;
  /** Message `seq` as readers see it: a claim holding it may keep it alive past its own ttl (§5.2). */
  message(key: QueueKey, seq: number): StoredMessage | undefined;
  /** Shards this node leads now: only their subscriptions are delivered here. */
  ledShards(): readonly ShardId[];
  changeSubscriptions(ref: QueueRef, change: SubscriptionChange): Promise<SubscriptionResult>;
}

/** Same shape as the api's NotificationMetrics (the consumer declares its interface). */
export interface NotifierMetrics {
  delivered(subscriberKind: string): void;
  deliveryFailed(subscriberKind: string): void;
  backlog(count: number): void;
  skipped(subscriberKind: string, count: number): void;
}

export interface NotifierOptions {
  readonly tickMs: number;
  readonly rescanMs: number;
  readonly linesMax: number;
  readonly backlogMax: number;
  readonly watchedMax: number;
  /** Deliver to unconfirmed subscriptions only when false (`require_confirmation`). */
  readonly requireConfirmation: boolean;
  /** Notify posted messages (`message_pipeline` has the notifier stage); confirmation notices go out either way. */
  readonly deliversMessages: boolean;
}

export const defaultNotifierOptions: NotifierOptions = {
  tickMs: 100,
  rescanMs: 2000,
  linesMax: 64,
  backlogMax: 10_000,
  watchedMax: 100_000,
  requireConfirmation: false,
  deliversMessages: true,
};

export interface NotifierDeps {
  readonly source: NotificationSource;
  readonly sender: NotificationSender;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly delays: Delays;
  readonly metrics: NotifierMetrics;
  readonly log: (message: string, error: unknown) => void;
  /**
   * The (un)subscribe confirmation document a subscription's pending notice asks for
   * (require_confirmation); notices are not sent when absent.
   */
  readonly confirmation?: (key: QueueKey, subscription: StoredSubscription, kind: 'subscribe' | 'unsubscribe') => NotificationDocument | undefined;
}

function keyText(key: QueueKey): string {
  return `${key.shardId}\u0000${key.project}\u0000${key.queue}`;
}

export class Notifier {
  private readonly watched = new Map<string, QueueKey>();
  private readonly lines = new Map<string, Promise<void>>();
  private readonly expiring = new Set<string>();
  /** Notices being sent (subscription id and request time), so a tick does not send one twice. */
  private readonly noticesInFlight = new Set<string>();
  /** Wakes each pending retry sleep early (stop). */
  private readonly sleepers = new Set<() => void>();
  private lastRescanMs = Number.NEGATIVE_INFINITY;
  private isStopped = false;
  /** Resolves at stop: a send in flight is abandoned (not acknowledged) rather than awaited. */
  private readonly stopped: Promise<'stopped'>;
  private signalStopped: () => void = () => undefined;
  private readonly stopTimer: () => void;
  private readonly options: NotifierOptions;

  constructor(private readonly deps: NotifierDeps, options: Partial<NotifierOptions> = {}) {
    this.options = { ...defaultNotifierOptions, ...options };
    this.stopped = new Promise((resolve) => {
      this.signalStopped = () => resolve('stopped');
    });
    this.stopTimer = deps.timers.every(this.options.tickMs, () => this.tick());
  }

  /** One round: rescan when due, start lines for subscriptions behind, report the backlog. */
  tick(): void {
    if (this.isStopped) return;
    const led = new Set(this.deps.source.ledShards());
    const nowMs = this.deps.clock.nowMs();
    if (nowMs - this.lastRescanMs >= this.options.rescanMs) {
      this.lastRescanMs = nowMs;
      // A rescan lists queues from the store's committed state, which may lag the applied
      // state by the store's write hold (write-hold.ts): have it issued first.
      void this.deps.source.store.committed()
        .then(() => {
          if (!this.isStopped) this.rescan(led);
        })
        .catch((error: unknown) => this.deps.log('rescanning subscriptions failed', error));
    }
    let backlog = 0;
    for (const [text, key] of this.watched) {
      if (!led.has(key.shardId)) continue;
      const queue = this.deps.source.store.getQueue(key);
      const subscriptions = queue?.subscriptions ?? [];
      if (queue === undefined || subscriptions.length === 0) {
        this.watched.delete(text);
        continue;
      }
      const lastSeq = queue.nextSeq - 1;
      if (subscriptions.some((s) => s.expiresMs <= nowMs)) this.expire(text, key);
      for (const subscription of subscriptions) {
        if (subscription.expiresMs <= nowMs) continue;
        backlog += Math.max(0, lastSeq - subscription.notifiedSeq);
        this.sendNotice(key, subscription);
        if (subscription.notifiedSeq < lastSeq) this.startLine(key, subscription.id);
      }
    }
    this.deps.metrics.backlog(backlog);
  }

  /** Stops starting work; resolves when running lines have stopped (they stop before their next attempt). */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.stopTimer();
    this.signalStopped();
    for (const wake of [...this.sleepers]) wake();
    await Promise.all(this.lines.values());
  }

  private rescan(led: ReadonlySet<ShardId>): void {
    for (const shardId of led) {
      for (const { project, name, queue } of this.deps.source.store.allQueues(shardId)) {
        if ((queue.subscriptions ?? []).length === 0) continue;
        const key = { shardId, project, queue: name };
        if (this.watched.size >= this.options.watchedMax) return;
        this.watched.set(keyText(key), key);
      }
    }
  }

  private expire(text: string, key: QueueKey): void {
    if (this.expiring.has(text)) return;
    this.expiring.add(text);
    void this.deps.source.changeSubscriptions(key, { op: 'expire' })
      .catch((error: unknown) => this.deps.log('expiring subscriptions failed', error))
      .finally(() => this.expiring.delete(text));
  }

  /**
   * Sends the confirmation notice a subscription owes (log state, so a new leader sends
   * one its predecessor did not record as sent), once, then records it as sent. Like the
   * reference, a failed send is not retried.
   */
  private sendNotice(key: QueueKey, subscription: StoredSubscription): void {
    const notice = subscription.pendingNotice;
    if (this.deps.confirmation === undefined || notice === undefined) return;
    const text = `${subscription.id}\u0000${notice.requestedMs}`;
    if (this.noticesInFlight.has(text) || this.noticesInFlight.size >= this.options.linesMax) return;
    const document = this.deps.confirmation(key, subscription, notice.kind);
    if (document === undefined) return;
    this.noticesInFlight.add(text);
    const target = { subscriber: subscription.subscriber, options: subscription.options, project: key.project, queue: key.queue };
    void this.deps.sender.send(target, document)
      .catch((error: unknown) => this.deps.log('confirmation notice failed', error))
      .then(() => this.deps.source.changeSubscriptions(key, { op: 'noticeSent', id: subscription.id, requestedMs: notice.requestedMs }))
      .catch((error: unknown) => this.deps.log('recording a confirmation notice failed', error))
      .finally(() => this.noticesInFlight.delete(text));
  }

  private startLine(key: QueueKey, id: string): void {
    const text = `${keyText(key)}\u0000${id}`;
    if (this.lines.has(text) || this.lines.size >= this.options.linesMax) return;
    const line = this.runLine(key, id)
      .catch((error: unknown) => this.deps.log('notification line stopped', error))
      .finally(() => this.lines.delete(text));
    this.lines.set(text, line);
  }

  private isLeading(key: QueueKey): boolean {
    return !this.isStopped && this.deps.source.ledShards().includes(key.shardId);
  }

  /** Delivers the subscription's pending messages in seq order until caught up or no longer leading. */
  private async runLine(key: QueueKey, id: string): Promise<void> {
    while (this.isLeading(key)) {
      const queue = this.deps.source.store.getQueue(key);
      const subscription = queue?.subscriptions?.find((s) => s.id === id);
      if (queue === undefined || subscription === undefined || subscription.expiresMs <= this.deps.clock.nowMs()) return;
      const lastSeq = queue.nextSeq - 1;
      if (subscription.notifiedSeq >= lastSeq) return;
      if (!this.options.deliversMessages) {
        // As in the reference, a message posted while the notifier stage is off is never
        // notified, not even once a restart switched it on: pass over it.
        await this.deps.source.changeSubscriptions(key, { op: 'progress', id, notifiedSeq: lastSeq });
        this.deps.metrics.skipped(subscriberKind(subscription.subscriber), lastSeq - subscription.notifiedSeq);
        continue;
      }
      let seq = subscription.notifiedSeq + 1;
      if (lastSeq - subscription.notifiedSeq > this.options.backlogMax) {
        seq = lastSeq - this.options.backlogMax + 1;
        this.deps.metrics.deliveryFailed(subscriberKind(subscription.subscriber));
      } else {
        const isDone = await this.deliverSeq(key, subscription, { seq, retryPolicy: queue.metadata['_retry_policy'] });
        if (!isDone) return;
      }
      await this.deps.source.changeSubscriptions(key, { op: 'progress', id, notifiedSeq: seq });
    }
  }

  /**
   * Delivers message `seq` (if it still exists and the subscription still takes it) on the
   * retry schedule; false when leadership was lost first.
   */
  private async deliverSeq(key: QueueKey, subscription: StoredSubscription, at: { seq: number; retryPolicy: unknown }): Promise<boolean> {
    const message = this.deps.source.message(key, at.seq);
    const body = message === undefined ? undefined : this.deps.source.store.getBody(key, at.seq);
    if (message === undefined || body === undefined || message.expiresMs <= this.deps.clock.nowMs()) return true;
    const document = notificationDocument(key.queue, {
      body: decodeBody(body),
      ttlSeconds: message.ttlSeconds,
      delaySeconds: Math.round((message.visibleMs - message.createdMs) / 1000),
    });
    const target = { subscriber: subscription.subscriber, options: subscription.options, project: key.project, queue: key.queue };
    const kind = subscriberKind(subscription.subscriber);
    const delays = [0, ...retryDelaysSeconds(selectRetryPolicy(subscription.options['_retry_policy'], at.retryPolicy))];
    for (const delaySeconds of delays) {
      if (delaySeconds > 0) await this.sleep(delaySeconds * 1000);
      if (!this.isLeading(key)) return false;
      // Checked on the stored subscription before every attempt, not on the copy the line
      // read: a retry can wait minutes, during which it may be unconfirmed or deleted.
      if (!this.isOwed(key, subscription.id)) return true;
      try {
        if ((await Promise.race([this.deps.sender.send(target, document), this.stopped])) === 'stopped') return false;
        this.deps.metrics.delivered(kind);
        return true;
      } catch (error) {
        this.deps.log(`notification to a ${kind} subscriber failed`, error);
      }
    }
    this.deps.metrics.deliveryFailed(kind);
    return true;
  }

  /** Whether subscription `id` takes notifications now (exists, live, confirmed when required). */
  private isOwed(key: QueueKey, id: string): boolean {
    const subscription = this.deps.source.store.getQueue(key)?.subscriptions?.find((s) => s.id === id);
    if (subscription === undefined || subscription.expiresMs <= this.deps.clock.nowMs()) return false;
    return subscription.confirmed || !this.options.requireConfirmation;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel = (): void => undefined;
      const done = (): void => {
        this.sleepers.delete(wake);
        resolve();
      };
      const wake = (): void => {
        cancel();
        done();
      };
      this.sleepers.add(wake);
      cancel = this.deps.delays.after(ms, done);
    });
  }
}

/**
 * The Notifier on a real ShardedBroker (LMDB in a temp dir, SimClock, manual timers):
 * what it sends, in which order, how often on failure (the retry schedule, asserted on
 * the sequence of sleeps it asks for, never on wall-clock time), that progress survives
 * a reopen (nothing re-sent), that a node not leading sends nothing, and that a stuck
 * subscriber does not hold back another one. With require_confirmation: a message posted
 * while unconfirmed is never sent, whether the confirmation applies before or after the
 * line reaches it, and a retry waiting when the subscription is unconfirmed is dropped.
 * Without the notifier stage in message_pipeline: messages are passed over unsent (never
 * sent later either), confirmation notices still go out.
 * The sender is a recording double: the webhook, SMTP and kill -9 paths are covered
 * against real receivers in the other suites.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Clock } from '../../src/common/clock.js';
import type { Delays } from '../../src/common/timers.js';
import { ManualTimers } from '../../src/common/timers.js';
import type { NotificationDocument, NotificationSender, NotificationTarget } from '../../src/cluster/notify/notification.js';
import { Notifier, type NotificationSource, type NotifierDeps } from '../../src/cluster/notify/notifier.js';
import type { ShardedBroker } from '../../src/cluster/sharded-broker.js';
import { useBrokerFixture } from '../engine/support/broker-fixture.js';

/** Records every requested sleep and ends it on the next microtask. */
class RecordingDelays implements Delays {
  readonly sleptMs: number[] = [];
  after(delayMs: number, task: () => void): () => void {
    this.sleptMs.push(delayMs);
    queueMicrotask(task);
    return () => undefined;
  }
}

interface Attempt { readonly subscriber: string; readonly document: NotificationDocument }

/** Fails the first `failures` attempts per subscriber; `stuck` subscribers never answer. */
class RecordingSender implements NotificationSender {
  readonly attempts: Attempt[] = [];
  readonly delivered: Attempt[] = [];
  constructor(private readonly options: { failures?: number; stuck?: ReadonlySet<string> } = {}) {}

  async send(target: NotificationTarget, document: NotificationDocument): Promise<void> {
    const attempt = { subscriber: target.subscriber, document };
    this.attempts.push(attempt);
    if (this.options.stuck?.has(target.subscriber) === true) return new Promise<void>(() => undefined);
    const previous = this.attempts.filter((a) => a.subscriber === target.subscriber).length - 1;
    if (previous < (this.options.failures ?? 0)) throw new Error(`attempt ${previous + 1} refused`);
    this.delivered.push(attempt);
  }
}

const openFixture = useBrokerFixture();
const ref = { project: 'p1', queue: 'jobs' };
const running: Notifier[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

/** Holds every requested sleep until `wake` (a retry wait the test can interleave with). */
class HeldDelays implements Delays {
  private readonly sleeping: (() => void)[] = [];
  get count(): number {
    return this.sleeping.length;
  }
  after(_delayMs: number, task: () => void): () => void {
    this.sleeping.push(task);
    return () => undefined;
  }
  wake(): void {
    for (const task of this.sleeping.splice(0)) task();
  }
}

interface StartOptions {
  source?: NotificationSource;
  delays?: Delays;
  requireConfirmation?: boolean;
  deliversMessages?: boolean;
  confirmation?: NotifierDeps['confirmation'];
}

function startNotifier(fixture: { broker: ShardedBroker; clock: Clock }, sender: NotificationSender, options: StartOptions = {}) {
  const broker = fixture.broker;
  const timers = new ManualTimers();
  const metrics = { delivered: vi.fn(), deliveryFailed: vi.fn(), backlog: vi.fn(), skipped: vi.fn() };
  const notifier = new Notifier({
    source: options.source ?? broker.notificationSource(),
    sender,
    clock: fixture.clock,
    timers,
    delays: options.delays ?? new RecordingDelays(),
    metrics,
    log: () => undefined,
    ...(options.confirmation === undefined ? {} : { confirmation: options.confirmation }),
  }, { requireConfirmation: options.requireConfirmation ?? false, deliversMessages: options.deliversMessages ?? true });
  running.push(notifier);
  return { notifier, timers, metrics };
}

async function subscribe(broker: ShardedBroker, subscriber: string, options: Record<string, unknown> = {}): Promise<string> {
  const result = await broker.changeSubscriptions(ref, { op: 'create', subscriber, options, ttlSeconds: 3600, subscriptionsMax: 100 });
  return result.id ?? '';
}

async function post(broker: ShardedBroker, bodies: unknown[]): Promise<void> {
  await broker.postMessages(ref, { clientId: 'c1', messages: bodies.map((body) => ({ body, ttlSeconds: 600, delaySeconds: 0 })) });
}

/** Runs notifier rounds until `isDone`, with a deadline. */
async function driveUntil(timers: ManualTimers, isDone: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    timers.runAll();
    if (!isDone()) throw new Error('not yet');
  }, { timeout: 10_000, interval: 5 });
}

describe('Notifier', () => {
  test('sends each message posted after subscribing once, in order, in the notification format', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await post(broker, [{ before: true }]);
    await subscribe(broker, 'http://a.example/hook');
    await post(broker, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const sender = new RecordingSender();
    const { timers, metrics } = startNotifier(fixture, sender);
    await driveUntil(timers, () => sender.delivered.length >= 3);
    expect(sender.delivered.map((a) => a.document)).toEqual([1, 2, 3].map((n) => ({ body: { n }, ttl: 600, queue_name: 'jobs', Message_Type: 'Notification' })));
    expect(metrics.delivered).toHaveBeenCalledWith('http');
  });

  test('a message claimed before its turn is sent while its claim keeps it alive past its own ttl (§5.2)', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await subscribe(broker, 'http://a.example/hook');
    await broker.postMessages(ref, { clientId: 'c1', messages: [{ body: { n: 1 }, ttlSeconds: 60, delaySeconds: 0 }] });
    expect(await broker.createClaim(ref, { limit: 1, ttlSeconds: 300, graceSeconds: 60 })).not.toBeNull();
    fixture.clock.advance(120_000);
    const sender = new RecordingSender();
    const { timers } = startNotifier(fixture, sender);
    await driveUntil(timers, () => sender.delivered.length === 1);
    expect(sender.delivered[0]?.document).toEqual({ body: { n: 1 }, ttl: 360, queue_name: 'jobs', Message_Type: 'Notification' });
  });

  test('progress is in the log: after a reopen nothing already delivered is sent again', async () => {
    const fixture = await openFixture();
    await subscribe(fixture.broker, 'http://a.example/hook');
    await post(fixture.broker, [{ n: 1 }, { n: 2 }]);
    const first = new RecordingSender();
    const one = startNotifier(fixture, first);
    await driveUntil(one.timers, () => first.delivered.length === 2);
    await vi.waitFor(() => {
      expect(storedCursors(fixture.broker)).toEqual([2]);
    });
    await one.notifier.stop();
    const reopened = await fixture.reopen();
    await post(reopened.broker, [{ n: 3 }]);
    const second = new RecordingSender();
    const two = startNotifier(reopened, second);
    await driveUntil(two.timers, () => second.delivered.length === 1);
    two.timers.runAll();
    expect(second.attempts.map((a) => a.document['body'])).toEqual([{ n: 3 }]);
    await reopened.close();
  });

  test('a failing subscriber is retried on the default schedule: immediate, minimum delay, then backoff', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await subscribe(broker, 'http://flaky.example/hook');
    await post(broker, [{ n: 1 }]);
    const sender = new RecordingSender({ failures: 8 });
    const delays = new RecordingDelays();
    const { timers } = startNotifier(fixture, sender, { delays });
    await driveUntil(timers, () => sender.delivered.length === 1);
    expect(sender.attempts).toHaveLength(9);
    expect(delays.sleptMs).toEqual([5000, 5000, 5000, 5000, 10000]);
  });

  test('the subscription retry policy overrides the queue one; after the schedule the message is given up', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await broker.createQueue(ref, { _retry_policy: { retries_with_no_delay: 9 } });
    const policy = { retries_with_no_delay: 1, minimum_delay_retries: 1, minimum_delay: 2, maximum_delay: 12, maximum_delay_retries: 1, retry_backoff_function: 'arithmetic' };
    await subscribe(broker, 'http://dead.example/hook', { _retry_policy: policy });
    await post(broker, [{ n: 1 }, { n: 2 }]);
    const sender = new RecordingSender({ failures: 1000 });
    const delays = new RecordingDelays();
    const { timers, metrics } = startNotifier(fixture, sender, { delays });
    await driveUntil(timers, () => metrics.deliveryFailed.mock.calls.length === 2);
    // Per message: first try, 1 immediate, 1 after 2 s, backoff 2, 12 (arithmetic, n = 2), 1 after 12 s.
    expect(delays.sleptMs).toEqual([2000, 2000, 12000, 12000, 2000, 2000, 12000, 12000]);
    expect(sender.attempts.map((a) => a.document['body'])).toEqual([...Array<unknown>(6).fill({ n: 1 }), ...Array<unknown>(6).fill({ n: 2 })]);
  });

  test('a node that does not lead the shard sends nothing', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await subscribe(broker, 'http://a.example/hook');
    await post(broker, [{ n: 1 }]);
    const sender = new RecordingSender();
    const source = { ...broker.notificationSource(), ledShards: () => [] };
    const { timers, metrics } = startNotifier(fixture, sender, { source });
    for (let round = 0; round < 5; round++) timers.runAll();
    await Promise.resolve();
    expect(sender.attempts).toEqual([]);
    expect(metrics.backlog).not.toHaveBeenCalledWith(1);
  });

  test('a subscriber that never answers delays only its own notifications', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    await subscribe(broker, 'http://stuck.example/hook');
    await subscribe(broker, 'http://fine.example/hook');
    await post(broker, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const sender = new RecordingSender({ stuck: new Set(['http://stuck.example/hook']) });
    const { timers, metrics } = startNotifier(fixture, sender);
    await driveUntil(timers, () => sender.delivered.length === 3);
    expect(sender.delivered.every((a) => a.subscriber === 'http://fine.example/hook')).toBe(true);
    expect(sender.attempts.filter((a) => a.subscriber === 'http://stuck.example/hook')).toHaveLength(1);
    // Once the fine subscriber's progress is applied, only the stuck one's three remain.
    await driveUntil(timers, () => metrics.backlog.mock.lastCall?.[0] === 3);
  });
});

describe('Notifier with require_confirmation', () => {
  const confirm = (broker: ShardedBroker, id: string, confirmed: boolean) => broker.changeSubscriptions(ref, { op: 'confirm', id, confirmed });
  const bodies = (sender: RecordingSender) => sender.attempts.map((a) => a.document['body']);

  test('a message posted while unconfirmed is not sent when the confirmation applies before the line reaches it', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    const id = await subscribe(broker, 'http://a.example/hook');
    await post(broker, ['before']);
    // No round has run: the line first reads the subscription already confirmed.
    await confirm(broker, id, true);
    await post(broker, ['after']);
    const sender = new RecordingSender();
    const { timers } = startNotifier(fixture, sender, { requireConfirmation: true });
    await driveUntil(timers, () => sender.delivered.length >= 1);
    await vi.waitFor(() => {
      expect(storedCursors(broker)).toEqual([2]);
    });
    timers.runAll();
    expect(bodies(sender)).toEqual(['after']);
  });

  test('a message posted while unconfirmed is not sent when the line passed over it before the confirmation', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    const id = await subscribe(broker, 'http://a.example/hook');
    await post(broker, ['before']);
    const sender = new RecordingSender();
    const { timers } = startNotifier(fixture, sender, { requireConfirmation: true });
    await driveUntil(timers, () => storedCursors(broker)[0] === 1);
    await confirm(broker, id, true);
    await post(broker, ['after']);
    await driveUntil(timers, () => storedCursors(broker)[0] === 2);
    expect(bodies(sender)).toEqual(['after']);
  });

  test('a retry waiting when the subscription is unconfirmed is not attempted', async () => {
    const fixture = await openFixture();
    const broker = fixture.broker;
    const policy = { retries_with_no_delay: 0, minimum_delay_retries: 1, minimum_delay: 2, maximum_delay: 12, maximum_delay_retries: 1, retry_backoff_function: 'arithmetic' };
    const id = await subscribe(broker, 'http://a.example/hook', { _retry_policy: policy });
    await confirm(broker, id, true);
    await post(broker, ['m1']);
    const sender = new RecordingSender({ failures: 1 });
    const delays = new HeldDelays();
    const { timers } = startNotifier(fixture, sender, { requireConfirmation: true, delays });
    await driveUntil(timers, () => delays.count === 1);
    await confirm(broker, id, false);
    delays.wake();
    await driveUntil(timers, () => storedCursors(broker)[0] === 1);
    expect(bodies(sender)).toEqual(['m1']);
    expect(sender.delivered).toEqual([]);
  });
});

describe('Notifier without the notifier stage in message_pipeline', () => {
  test('passes over messages unsent (counted), still sends confirmation notices, and a later notifier with the stage sends only newer messages', async () => {
    const fixture = await openFixture();
    await subscribe(fixture.broker, 'http://a.example/hook');
    await post(fixture.broker, ['while off 1', 'while off 2']);
    const off = new RecordingSender();
    const confirmation: NotifierDeps['confirmation'] = (_key, _subscription, kind) => ({ Message_Type: kind });
    const one = startNotifier(fixture, off, { deliversMessages: false, confirmation });
    await driveUntil(one.timers, () => storedCursors(fixture.broker)[0] === 2 && off.attempts.length === 1);
    expect(off.attempts.map((a) => a.document)).toEqual([{ Message_Type: 'subscribe' }]);
    expect(one.metrics.skipped).toHaveBeenCalledWith('http', 2);
    await one.notifier.stop();

    await post(fixture.broker, ['while on']);
    const on = new RecordingSender();
    const two = startNotifier(fixture, on);
    await driveUntil(two.timers, () => storedCursors(fixture.broker)[0] === 3);
    expect(on.attempts.map((a) => a.document['body'])).toEqual(['while on']);
  });
});

/** The delivery cursors of the test queue's subscriptions, from the shard that holds it. */
function storedCursors(broker: ShardedBroker): number[] {
  const store = broker.notificationSource().store;
  for (const { shardId } of broker.raftReports()) {
    const queue = store.getQueue({ shardId, ...ref });
    if (queue !== undefined) return (queue.subscriptions ?? []).map((s) => s.notifiedSeq);
  }
  return [];
}

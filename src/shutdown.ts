/**
 * The drain sequence a node runs on SIGTERM, in this order:
 *
 * 1. readiness turns false (`/readyz` 503), so load balancers take the node out;
 * 2. listeners stop accepting, and every HTTP reply from now on closes its connection
 *    so keep-alive clients reconnect elsewhere;
 * 3. shard leadership moves to other replicas (when the cluster offers it), so their
 *    writes pause for one transfer instead of an election timeout;
 * 4. requests in flight finish, up to the deadline; the rest are abandoned (their
 *    clients see the connection close, i.e. not acknowledged) and logged;
 * 5. WebSocket sessions close (1001), then the broker closes: in-flight proposals
 *    settle, LMDB is flushed and closed. Nothing acknowledged is lost, because a reply
 *    is only ever sent after its write is durable.
 *
 * Every wait is bounded by `deadlineMs` (measured on the injected clock, polled with
 * the injected delays); the broker close is not, as abandoning it could lose a flush.
 */
import type { Clock } from './common/clock.js';
import type { Logger } from './common/logger.js';
import type { Delays } from './common/timers.js';

export interface DrainableNode {
  /** Readiness false for good. */
  beginDrain(): void;
  /** Stop accepting connections; replies close their connections from now on. */
  stopAccepting(): void;
  transferLeadershipAway(): Promise<void>;
  requestsInFlight(): number;
  /** Closes WebSocket sessions and extra listeners, then the broker (flush included). */
  closeAll(): Promise<void>;
}

export interface DrainOptions {
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly delays: Delays;
  readonly logger: Logger;
}

export interface DrainReport {
  /** Requests still unanswered when the deadline passed (abandoned). */
  readonly abandonedRequests: number;
  readonly isLeadershipTransferred: boolean;
  readonly elapsedMs: number;
}

const pollMs = 20;

export async function drainNode(node: DrainableNode, options: DrainOptions): Promise<DrainReport> {
  const { clock, logger } = options;
  const startMs = clock.monotonicMs();
  const remainingMs = (): number => Math.max(0, options.deadlineMs - (clock.monotonicMs() - startMs));
  node.beginDrain();
  node.stopAccepting();
  logger.info({ deadlineMs: options.deadlineMs, requestsInFlight: node.requestsInFlight() }, 'draining: readiness off, listeners closed');
  const transfer = node.transferLeadershipAway().then(() => true, (error: unknown) => {
    logger.warn({ err: error }, 'draining: leadership transfer failed; peers will elect after their timeout');
    return false;
  });
  const isLeadershipTransferred = await withDeadline(transfer, remainingMs(), options.delays, false);
  while (node.requestsInFlight() > 0 && remainingMs() > 0) await sleep(options.delays, Math.min(pollMs, remainingMs()));
  const abandonedRequests = node.requestsInFlight();
  if (abandonedRequests > 0) logger.warn({ abandonedRequests }, 'draining: deadline passed, abandoning requests in flight');
  await node.closeAll();
  const elapsedMs = Math.round(clock.monotonicMs() - startMs);
  logger.info({ elapsedMs, abandonedRequests, isLeadershipTransferred }, 'drained: data flushed and closed');
  return { abandonedRequests, isLeadershipTransferred, elapsedMs };
}

function sleep(delays: Delays, ms: number): Promise<void> {
  return new Promise((resolve) => {
    delays.after(ms, resolve);
  });
}

/** The promise's value, or `fallback` once `ms` have passed (the promise keeps running). */
function withDeadline<T>(promise: Promise<T>, ms: number, delays: Delays, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const cancel = delays.after(ms, () => resolve(fallback));
    void promise.then((value) => {
      cancel();
      resolve(value);
    });
  });
}

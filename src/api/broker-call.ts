/**
 * Converts what the layer below throws into the api's typed errors, once, for every
 * broker call. Zaqar answers a storage failure with 503 and a description naming what
 * failed (`Messages could not be enqueued. Please try again in a few seconds.`); an
 * unavailable shard also tells the client when to come back. Broken invariants
 * (AssertionError) pass through untouched and become 500s at the transport.
 */
import { AssertionError } from '../common/assert.js';
import { OverloadedError, ShardUnavailableError } from '../cluster/errors.js';
import { BrokerError } from './errors.js';

/** Seconds a client is asked to wait when a shard cannot serve (leader election). */
const unavailableRetrySeconds = 1;

/**
 * Runs one broker operation; `what` is the reference's failure text, e.g. `Queue could
 * not be created.` A plain promise chain rather than an async function: one promise per
 * call instead of three on every request's path.
 */
export function brokerCall<T>(what: string, operation: () => Promise<T>): Promise<T> {
  let result: Promise<T>;
  try {
    result = operation();
  } catch (cause) {
    return Promise.reject(toBrokerError(what, cause));
  }
  return result.catch((cause: unknown) => {
    throw toBrokerError(what, cause);
  });
}

export function toBrokerError(what: string, cause: unknown): unknown {
  if (cause instanceof BrokerError || cause instanceof AssertionError) return cause;
  const description = `${what} Please try again in a few seconds.`;
  if (cause instanceof ShardUnavailableError) {
    return new BrokerError('shard_unavailable', description, { cause, retryAfterSeconds: unavailableRetrySeconds });
  }
  if (cause instanceof OverloadedError) return new BrokerError('overloaded', description, { cause });
  return new BrokerError('service_unavailable', description, { cause });
}

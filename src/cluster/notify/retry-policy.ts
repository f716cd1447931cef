/**
 * The `_retry_policy` of notifications (zaqar-semantics.md §9.4): which policy applies
 * (subscription vs queue, the override rule), and the delays before each attempt.
 * Pure functions: the notifier sleeps the delays through injected Delays.
 *
 * Attempt schedule: one first attempt, then `retries_with_no_delay` immediate retries,
 * `minimum_delay_retries` after `minimum_delay` s each, one retry after each value of
 * the backoff list, `maximum_delay_retries` after `maximum_delay` s each; then give up.
 * Unlike the reference (transport errors only), timeouts, connection errors and non-2xx
 * answers all count as failures (the evident intent the spec names).
 */

export type BackoffFunction = 'linear' | 'arithmetic' | 'geometric' | 'exponential';

export interface RetryPolicy {
  readonly retriesWithNoDelay: number;
  readonly minimumDelayRetries: number;
  readonly minimumDelaySeconds: number;
  readonly maximumDelaySeconds: number;
  readonly maximumDelayRetries: number;
  readonly backoff: BackoffFunction;
}

/** The backoff step constant of the reference. */
const stepSeconds = 5;

const backoffFunctions: ReadonlySet<string> = new Set(['linear', 'arithmetic', 'geometric', 'exponential']);

type PolicyDocument = Readonly<Record<string, unknown>>;

function asDocument(value: unknown): PolicyDocument {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as PolicyDocument) : {};
}

/**
 * Policy selection: if either side sets `ignore_subscription_override: true` the queue's
 * policy wins (or none); otherwise the subscription's when non-empty, else the queue's.
 */
export function selectRetryPolicy(subscriptionPolicy: unknown, queuePolicy: unknown): RetryPolicy {
  const s = asDocument(subscriptionPolicy);
  const q = asDocument(queuePolicy);
  const isOverrideIgnored = s['ignore_subscription_override'] === true || q['ignore_subscription_override'] === true;
  const chosen = isOverrideIgnored ? q : Object.keys(s).length > 0 ? s : q;
  const int = (key: string, fallback: number): number => {
    const v = chosen[key];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback;
  };
  const fn = chosen['retry_backoff_function'];
  return {
    retriesWithNoDelay: int('retries_with_no_delay', 3),
    minimumDelayRetries: int('minimum_delay_retries', 3),
    minimumDelaySeconds: int('minimum_delay', 5),
    maximumDelaySeconds: int('maximum_delay', 30),
    maximumDelayRetries: int('maximum_delay_retries', 3),
    backoff: typeof fn === 'string' && backoffFunctions.has(fn) ? (fn as BackoffFunction) : 'linear',
  };
}

/** The backoff phase's sleeps in seconds, per function (§9.4 formulas, step 5). */
export function backoffSeconds(policy: RetryPolicy): number[] {
  const min = policy.minimumDelaySeconds;
  const max = policy.maximumDelaySeconds;
  const n = Math.floor((max - min) / stepSeconds);
  if (n <= 0) return [];
  const steps = Array.from({ length: n }, (_, i) => i + 1);
  switch (policy.backoff) {
    case 'linear': {
      const out: number[] = [];
      for (let d = min; d < max; d += stepSeconds) out.push(d);
      return out;
    }
    case 'arithmetic': {
      if (n < 2) return [min];
      const d = (2 * (max - min)) / (n * (n - 1));
      return steps.map((a) => Math.floor(min + ((a - 1) * a * d) / 2));
    }
    case 'geometric': {
      if (n < 2) return [min];
      const k = 10 ** (Math.log10(max / min) / (n - 1));
      return steps.map((a) => Math.floor(min * k ** (a - 1)));
    }
    case 'exponential': {
      if (n < 2) return [min];
      const k = 10 ** (Math.log10(max / min) / (n - 1));
      const p = min / k;
      return steps.map((a) => Math.floor(p * k ** a));
    }
  }
}

/** Delay in seconds before each retry, in order (the first attempt is not included). */
export function retryDelaysSeconds(policy: RetryPolicy): number[] {
  return [
    ...Array<number>(policy.retriesWithNoDelay).fill(0),
    ...Array<number>(policy.minimumDelayRetries).fill(policy.minimumDelaySeconds),
    ...backoffSeconds(policy),
    ...Array<number>(policy.maximumDelayRetries).fill(policy.maximumDelaySeconds),
  ];
}

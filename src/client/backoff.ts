/**
 * Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), so a
 * fleet of clients that lost the same server does not reconnect in lock-step, yet no
 * client retries with a near-zero delay. Deterministic given its Random.
 */
import type { Random } from '../common/random.js';
import type { ReconnectOptions } from './client-types.js';

export const defaultReconnectOptions: ReconnectOptions = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  attemptsMax: Number.POSITIVE_INFINITY,
};

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: ReconnectOptions,
    private readonly random: Random,
  ) {}

  /** The delay before the next attempt, or undefined when attempts are exhausted. */
  nextDelayMs(): number | undefined {
    if (this.attempt >= this.options.attemptsMax) return undefined;
    const exponent = Math.min(this.attempt, 64);
    const capMs = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * this.options.multiplier ** exponent);
    this.attempt += 1;
    return capMs / 2 + this.random.next() * (capMs / 2);
  }

  /** After a successful connection the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}

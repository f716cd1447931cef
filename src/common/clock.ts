/**
 * Time source. Only the composition root and transports read the system clock; every
 * other module takes a Clock so that simulations and tests control time. State
 * machines never read a clock at all: commands carry their timestamps.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (for command timestamps). */
  nowMs(): number;
  /** Monotonic milliseconds (for timeouts and latency), unrelated to the epoch. */
  monotonicMs(): number;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }
  monotonicMs(): number {
    return performance.now();
  }
}

/** A clock that only moves when told to: simulations and unit tests. */
export class SimClock implements Clock {
  private epochMs: number;
  private elapsedMs = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.epochMs = startMs;
  }
  nowMs(): number {
    return this.epochMs + this.elapsedMs;
  }
  monotonicMs(): number {
    return this.elapsedMs;
  }
  advance(ms: number): void {
    this.elapsedMs += ms;
  }
  /** Moves wall time only (a stepped NTP clock); monotonic time is unaffected. */
  stepWall(ms: number): void {
    this.epochMs += ms;
  }
}

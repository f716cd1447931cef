/**
 * Timers that fire only when told to: tests of the client's helpers (and of user code
 * built on them) drive linger, renewal and back-off delays by hand instead of sleeping.
 */
import type { Timers } from './client-timers.js';

interface Scheduled {
  readonly fn: () => void;
  readonly delayMs: number;
  isCancelled: boolean;
}

export class ManualTimers implements Timers {
  private due: Scheduled[] = [];

  setTimeout(fn: () => void, delayMs: number): () => void {
    const entry: Scheduled = { fn, delayMs, isCancelled: false };
    this.due.push(entry);
    return () => {
      entry.isCancelled = true;
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.due.filter((entry) => !entry.isCancelled).length;
  }

  /** Fires every timer scheduled so far (not those scheduled while firing). */
  fireAll(): void {
    const entries = this.due;
    this.due = [];
    for (const entry of entries) if (!entry.isCancelled) entry.fn();
  }
}

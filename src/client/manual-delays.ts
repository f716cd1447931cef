/**
 * Delays that fire only when told to: tests of the client's helpers (and of user code
 * built on them) drive linger, renewal and back-off delays by hand instead of sleeping.
 */
import type { Delays } from '../common/timers.js';

interface Scheduled {
  readonly task: () => void;
  isCancelled: boolean;
}

export class ManualDelays implements Delays {
  private due: Scheduled[] = [];

  after(_delayMs: number, task: () => void): () => void {
    const entry: Scheduled = { task, isCancelled: false };
    this.due.push(entry);
    return () => {
      entry.isCancelled = true;
    };
  }

  /** Delays scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.due.filter((entry) => !entry.isCancelled).length;
  }

  /** Fires every delay scheduled so far (not those scheduled while firing). */
  fireAll(): void {
    const entries = this.due;
    this.due = [];
    for (const entry of entries) if (!entry.isCancelled) entry.task();
  }
}

/**
 * Timers for the client library. The client is its own composition root when a user
 * embeds it, so it owns the default system timer; tests and simulations pass their own
 * Timers (with the Clock and Random of src/common) to drive time by hand.
 */

/** Schedules `fn` after `delayMs`; the returned function cancels it (idempotent). */
export interface Timers {
  setTimeout(fn: () => void, delayMs: number): () => void;
}

export const systemTimers: Timers = {
  setTimeout(fn: () => void, delayMs: number): () => void {
    const handle = setTimeout(fn, delayMs);
    return () => clearTimeout(handle);
  },
};

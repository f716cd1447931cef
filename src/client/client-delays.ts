/**
 * The client's default one-shot delays (request timeouts, linger, claim renewal,
 * reconnect back-off), implementing common's `Delays` interface. Unlike common's
 * SystemDelays these keep the process alive: a consumer waiting to reconnect or to poll
 * an empty queue again is the work of a client process, not background noise. Tests
 * pass ManualDelays instead.
 */
import type { Delays } from '../common/timers.js';

export const systemDelays: Delays = {
  after(delayMs: number, task: () => void): () => void {
    const handle = setTimeout(task, delayMs);
    return () => clearTimeout(handle);
  },
};

/**
 * One end-of-turn hook for the coalescers (post-coalescer.ts, command-coalescer.ts) and
 * the forward batcher (cluster/grpc/forward-batcher.ts), each of which holds what one
 * event-loop turn brings until its I/O is handled. With a setImmediate each, a coalescer
 * flushing in the check phase handed its command to a batcher whose own setImmediate
 * then ran only in the next loop iteration, after another poll phase: every forwarded
 * command waited a turn more than it needed to. Here, work queued while the queue drains
 * runs in the same drain.
 */
const queued: (() => void)[] = [];
let isScheduled = false;

/** Runs `run` once the current turn's I/O callbacks (and their promise chains) are handled. */
export function atTurnEnd(run: () => void): void {
  queued.push(run);
  if (isScheduled) return;
  isScheduled = true;
  setImmediate(drain);
}

function drain(): void {
  try {
    // By index: what a callback queues (a coalescer's flush reaching a batcher) runs in this drain too.
    for (let at = 0; at < queued.length; at++) {
      const run = queued[at]!;
      try {
        run();
      } catch (error) {
        // The others still run; the error surfaces as it would have from a setImmediate of its own.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  } finally {
    queued.length = 0;
    isScheduled = false;
  }
}

/**
 * Queue-store writes held back to ride the next log write's transaction.
 *
 * A round's apply writes queue-store puts. Issued at once, they committed in an LMDB
 * transaction and fdatasync of their own whenever no log persist followed in the same
 * event-loop turn: under consumer load a single node ran two transactions per command
 * (~550 persists/s for ~250 commands/s), each with its fdatasync and hand-offs to and from
 * lmdb-js's write thread. Now a store's writes stay pending (PendingWrites serves reads
 * from them) until the next log write is issued (GroupCommit issues them first, in the same
 * turn, so lmdb-js puts both in one transaction), or until `boundMs` passes with no log
 * write, or until someone waits for them (`committed`/`flushed`, which close, snapshots and
 * compaction do).
 *
 * Why committing later is safe: a shard's queue state is rebuilt from the Raft log after
 * its stored applied index, and that index is written with the state it describes (the
 * same store writes, issued together), so a restart that finds them not yet written
 * replays more entries and reaches the same state. What must not trust unwritten state
 * awaits `flushed()` first: log compaction (local-shard-log.ts, shard-compactor.ts) only
 * drops entries at or below an applied index that is flushed, and a snapshot image is
 * read after `committed()`.
 *
 * One per LMDB environment: the transaction that carries the writes is the environment's.
 */
import { isLmdbEnvOpen, type LmdbEnv } from './lmdb-env.js';

/** Writes of one database held back until `issue` (PendingWrites). */
export interface HeldWrites {
  issue(): void;
  /** The environment closed before the writes were issued: they are lost. */
  fail(error: unknown): void;
}

/** Longest a write waits for a log write to ride with (then it commits on its own). */
export const deferBoundMs = 15;

export class DeferredWrites {
  private held = new Set<HeldWrites>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly env: LmdbEnv,
    private readonly boundMs = deferBoundMs,
  ) {}

  /** `writes` has writes held; they are issued with the next log write or within the bound. */
  hold(writes: HeldWrites): void {
    this.held.add(writes);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.issue(), this.boundMs);
      this.timer.unref();
    }
  }

  /** Issues every held write now: they join the transaction of this event-loop turn. */
  issue(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return;
    const held = this.held;
    this.held = new Set();
    const isOpen = isLmdbEnvOpen(this.env);
    for (const writes of held) {
      if (isOpen) writes.issue();
      else writes.fail(new Error('the LMDB environment closed before held queue-store writes were issued'));
    }
  }
}

const byEnv = new WeakMap<LmdbEnv, DeferredWrites>();

/** The environment's one DeferredWrites (shared by its log store and queue store). */
export function deferredWritesOf(env: LmdbEnv): DeferredWrites {
  let deferred = byEnv.get(env);
  if (deferred === undefined) {
    deferred = new DeferredWrites(env);
    byEnv.set(env, deferred);
  }
  return deferred;
}

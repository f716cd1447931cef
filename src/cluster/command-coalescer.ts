/**
 * CommandCoalescer: consumers' commands (claims, deletes, renewals, releases, pops) to one
 * shard read in the same event-loop turn go to its log as one batch entry
 * (shard/commands.ts `BatchCommand`) instead of one entry each. A round answers its
 * commands together, so consumers that each keep one request in flight send their next
 * requests together too: about 1.75 claims per turn with 5 consumers. Each entry costs
 * every replica a proposal, a forward item, an entry to encode, persist, send and apply,
 * and a commit wait of its own, whatever it carries.
 *
 * A command waits only for the end of the turn that read it (`afterTurn`: common/turn-end.ts,
 * as posts do); a command alone in its turn goes as it did, unbatched.
 * A batch carries at most `commandsMax` commands. Each command keeps its own dedup key and
 * its own answer (which may be `moved`, for a name bound elsewhere: the caller follows it
 * alone); a batch that fails fails every command it carried with the same error.
 *
 * Batches go only while `isEnabled()` (every node applies them: peer-capabilities.ts
 * `appliesCommandBatches`); otherwise each command is proposed on its own.
 */
import { assert } from '../common/assert.js';
import { atTurnEnd } from '../common/turn-end.js';
import type { BatchCommand, BatchedCommand } from './shard/commands.js';
import type { MovedAnswer } from './shard/queue-placement.js';
import type { AnyCommandResult, ResultOf } from './shard/results.js';
import type { ShardLog } from './shard/shard-log.js';

interface Waiting {
  readonly command: BatchedCommand;
  readonly resolve: (result: AnyCommandResult) => void;
  readonly reject: (error: unknown) => void;
}

export class CommandCoalescer {
  /** The logs with commands waiting for the end of this turn. */
  private readonly lanes = new Map<ShardLog, Waiting[]>();

  constructor(
    private readonly isEnabled: () => boolean,
    private readonly commandsMax = 64,
    /** Runs `flush` once the current event-loop turn's I/O is handled (every request read in it has arrived). */
    private readonly afterTurn: (flush: () => void) => void = atTurnEnd,
  ) {}

  /** Proposes `command` on `log`, in a batch with the other commands of this turn to it. */
  propose<C extends BatchedCommand>(log: ShardLog, command: C): Promise<ResultOf<C> | MovedAnswer> {
    let waiting = this.lanes.get(log);
    if (waiting === undefined) {
      const opened: Waiting[] = [];
      waiting = opened;
      this.lanes.set(log, opened);
      this.afterTurn(() => {
        this.lanes.delete(log);
        this.flush(log, opened);
      });
    }
    const lane = waiting;
    return new Promise<AnyCommandResult>((resolve, reject) => {
      lane.push({ command, resolve, reject });
    }) as Promise<ResultOf<C> | MovedAnswer>;
  }

  private flush(log: ShardLog, waiting: readonly Waiting[]): void {
    if (!this.isEnabled()) {
      for (const one of waiting) log.propose(one.command).then(one.resolve, one.reject);
      return;
    }
    for (let at = 0; at < waiting.length; at += this.commandsMax) this.sendBatch(log, waiting.slice(at, at + this.commandsMax));
  }

  private sendBatch(log: ShardLog, batch: readonly Waiting[]): void {
    const [first] = batch;
    assert(first !== undefined, 'an empty command batch');
    if (batch.length === 1) {
      log.propose(first.command).then(first.resolve, first.reject);
      return;
    }
    const commands = batch.map((one) => one.command);
    const command: BatchCommand = { type: 'batch', nowMs: Math.max(...commands.map((c) => c.nowMs)), commands };
    log.propose(command).then(
      ({ results }) => {
        assert(results.length === batch.length, () => `a batch of ${batch.length} commands answered ${results.length} results`);
        batch.forEach((one, i) => one.resolve(results[i]!));
      },
      (error: unknown) => {
        for (const one of batch) one.reject(error);
      },
    );
  }
}

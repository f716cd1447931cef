/**
 * What the cluster needs from a shard's replicated log: propose a command and learn its
 * apply result once it is durable and applied, and a read barrier after which local
 * reads reflect every write acknowledged before the barrier was requested. Today's
 * implementation is LocalShardLog (one node, group-committed LMDB log); a Raft group
 * (leader proposals, ReadIndex) replaces it without touching the FSM or the api.
 */
import type { ShardCommand } from './commands.js';
import type { ResultOf } from './results.js';

export interface ShardLog {
  /** Resolves with the command's apply result once its entry is durable and applied. */
  propose<C extends ShardCommand>(command: C): Promise<ResultOf<C>>;
  /** Resolves when local reads may serve linearizably. */
  readBarrier(): Promise<void>;
}

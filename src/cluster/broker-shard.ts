/** One shard as the broker holds it: its state machine, its log and how it is read, over the node's stores. */
import type { NodeId, ShardId } from '../common/ids.js';
import type { BrokerStores } from './broker-stores.js';
import type { ShardLogSource } from './shard-log-source.js';
import { QueueFsm } from './shard/queue-fsm.js';
import type { ShardLog } from './shard/shard-log.js';
import { localShardReads, type ShardReads } from './shard/shard-query.js';

export interface BrokerShard {
  readonly shardId: ShardId;
  readonly fsm: QueueFsm;
  readonly log: ShardLog;
  readonly reads: ShardReads;
}

/** One shard's state machine, log and reads over the node's stores. */
export function openShard(shardId: ShardId, on: { stores: BrokerStores; localLog: ShardLogSource }, replicas?: readonly NodeId[]): BrokerShard {
  const fsm = new QueueFsm(shardId, on.stores.queueStore);
  const log = on.localLog.openShard(fsm, replicas);
  const local = localShardReads(log, fsm);
  return { shardId, fsm, log, reads: on.localLog.openReads?.(fsm, local) ?? local };
}

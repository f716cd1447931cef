/**
 * Queues placed outside their hash shard (pools and flavors, README "Pools and
 * flavors"). A queue created with a flavor lives on a shard of one of the flavor's pools;
 * its hash shard keeps a binding record naming that shard and its replicas, under the
 * reserved project `<project>` + `placedProjectSuffix` (a newline: no client can name it,
 * and a listing of `<project>` never shows it). The binding is written once, by a
 * `place` command, and never removed: deleting the queue deletes its state on the placed
 * shard, and re-creating the name creates it there again. Because a binding never
 * changes, every node may cache it forever, and a node that has not seen it yet learns
 * it from the hash shard itself: every queue command and query there for a bound name is
 * answered `moved` (nothing applied), so no node ever writes a flavored queue's state into
 * its hash shard, whatever its cache holds.
 */
import type { NodeId, ShardId } from '../../common/ids.js';
import type { StoredQueue } from '../../log/queue-store.js';
import { queueKeyOf } from './claim-index.js';

export const placedProjectSuffix = '\n#placed';

/** Where a queue lives when it is not in its hash shard. */
export interface QueuePlacement {
  readonly shardId: ShardId;
  /** The placed shard's voters when it was bound: a routing hint for nodes without a replica. */
  readonly replicas: readonly NodeId[];
}

/** The answer of a hash shard to a command or query for a bound name. */
export interface MovedAnswer {
  readonly moved: QueuePlacement;
}

export function isMoved(answer: unknown): answer is MovedAnswer {
  return typeof answer === 'object' && answer !== null && 'moved' in answer;
}

export function isPlacedProject(project: string): boolean {
  return project.endsWith(placedProjectSuffix);
}

/** The binding record's metadata. */
export function bindingRecord(placement: QueuePlacement, nowMs: number): StoredQueue {
  return { metadata: { shardId: placement.shardId, replicas: [...placement.replicas] }, nextSeq: 1, createdMs: nowMs };
}

function placementOf(queue: StoredQueue): QueuePlacement {
  const { shardId, replicas } = queue.metadata;
  return { shardId: Number(shardId) as ShardId, replicas: Array.isArray(replicas) ? (replicas as NodeId[]) : [] };
}

/**
 * The bindings of one shard, by queue key (claim-index's queueKeyOf of the client's
 * project and queue), rebuilt from the store's records.
 */
export class QueueBindings {
  private readonly byQueue = new Map<string, QueuePlacement>();

  of(project: string, queue: string): QueuePlacement | undefined {
    return this.byQueue.size === 0 ? undefined : this.byQueue.get(queueKeyOf(project, queue));
  }

  add(project: string, queue: string, placement: QueuePlacement): void {
    this.byQueue.set(queueKeyOf(project, queue), placement);
  }

  /** Replaces the bindings with those among `queues` (the shard's records at start, or a restored image's). */
  load(queues: Iterable<{ readonly project: string; readonly name: string; readonly queue: StoredQueue }>): void {
    this.byQueue.clear();
    for (const { project, name, queue } of queues) {
      if (isPlacedProject(project)) this.add(project.slice(0, -placedProjectSuffix.length), name, placementOf(queue));
    }
  }
}

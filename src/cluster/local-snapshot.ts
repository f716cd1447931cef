/**
 * A local snapshot: a stored Raft snapshot with meta (index, term, conf) and no data,
 * meaning "this replica's queue store holds the state up to here". ShardCompactor stores
 * one to compact the log once the queue state at its index is flushed; a leader's
 * snapshot installed here always carries its ShardImage (a non-empty frame).
 */
import type { Snapshot } from '../raft/types.js';

export const localSnapshotData = new Uint8Array(0);

export function isLocalSnapshot(snapshot: Snapshot): boolean {
  return snapshot.data.byteLength === 0;
}

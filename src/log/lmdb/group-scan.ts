/**
 * Reads one group's stored state at load time and verifies all of it: the group record,
 * the snapshot and every entry (checksum, contiguous indexes, key = stored index,
 * non-decreasing terms). Never throws on damage: it returns the longest verified prefix
 * and a damage report, as RaftGroupState.damage describes.
 *
 * Damage policy:
 *  - entry k bad or missing (k <= recorded last index): entries k.. are dropped;
 *    damage = { fromIndex: k, lastIndexSeen: recorded last (or the persisted mark) }.
 *  - snapshot bad: the snapshot and the whole log (which only makes sense on top of it)
 *    are dropped; the hard state (separately verified) is kept.
 *  - group record bad (hard state unknown): everything is dropped; term restarts at the
 *    highest term found in verified data, vote 0; damage covers the highest index seen.
 *    The damage report keeps the group from voting until a leader has repaired its log.
 * The commit index is clamped into what is left, so the core never sees commit > last.
 */
import type { LogIndex, RaftGroupState, ShardId, SnapshotMeta, Term } from '../../raft/types.js';
import { decodeEntry } from './entry-codec.js';
import { decodeGroupRecord, decodeSnapshot, emptyGroupRecord, type GroupRecord } from './group-record.js';
import type { LogDbs } from './log-dbs.js';

/** What the store keeps in memory per group: the record plus the snapshot's metadata. */
export interface GroupView extends GroupRecord {
  readonly snapshotMeta: SnapshotMeta | undefined;
  /** A damaged snapshot is still stored: the next write of the group removes it. */
  readonly hasStaleSnapshot?: boolean;
}

export interface ScannedGroup {
  readonly view: GroupView;
  readonly damage: RaftGroupState['damage'];
}

export function scanGroup(dbs: LogDbs, shardId: ShardId): ScannedGroup {
  const recordBytes = dbs.groups.getBinary(shardId);
  const snapshotBytes = dbs.snapshots.getBinary(shardId);
  const record = recordBytes === undefined ? undefined : decodeGroupRecord(recordBytes);
  if (record === undefined) {
    const highestKey = highestEntryKey(dbs, shardId);
    if (recordBytes === undefined && snapshotBytes === undefined && highestKey === undefined) {
      return { view: { ...emptyGroupRecord, snapshotMeta: undefined }, damage: undefined };
    }
    return withoutRecord(dbs, shardId, { snapshotBytes, highestKey });
  }
  const lastIndexSeen = Math.max(record.lastIndex, record.lastIndexSeen) as LogIndex;
  let snapshotMeta: SnapshotMeta | undefined;
  if (snapshotBytes !== undefined) {
    snapshotMeta = decodeSnapshot(snapshotBytes)?.meta;
    if (snapshotMeta === undefined) {
      const hardState = { ...record.hardState, commit: 0 as LogIndex };
      const view = { ...emptyGroupRecord, hardState, snapshotMeta, hasStaleSnapshot: true };
      return damaged(view, { fromIndex: 1 as LogIndex, lastIndexSeen });
    }
  }
  const validLast = lastVerifiedIndex(dbs, shardId, record);
  const commitMin = snapshotMeta?.index ?? 0;
  const commit = Math.min(Math.max(record.hardState.commit, commitMin), validLast) as LogIndex;
  const view: GroupView = {
    ...record,
    hardState: { ...record.hardState, commit },
    lastIndex: validLast,
    lastIndexSeen: validLast < lastIndexSeen ? lastIndexSeen : (0 as LogIndex),
    snapshotMeta,
  };
  if (validLast >= lastIndexSeen) return { view, damage: undefined };
  return damaged(view, { fromIndex: (validLast + 1) as LogIndex, lastIndexSeen });
}

/**
 * Whether scanGroup would find anything of the group (a last index > 0, a snapshot, or a
 * term > 0), from a few key lookups: it follows scanGroup's damage policy case by case
 * but verifies only the records that decide the answer. Only a group record with term 0
 * beside a stored snapshot (which raft never writes: a snapshot comes with a term) makes
 * it verify the snapshot.
 */
export function groupHasState(dbs: LogDbs, shardId: ShardId): boolean {
  const recordBytes = dbs.groups.getBinary(shardId);
  const record = recordBytes === undefined ? undefined : decodeGroupRecord(recordBytes);
  if (record === undefined) {
    // withoutRecord: only the term of the highest entry or of the snapshot survives.
    const highestKey = highestEntryKey(dbs, shardId);
    const entryBytes = highestKey === undefined ? undefined : dbs.entries.getBinary([shardId, highestKey]);
    if ((entryBytes === undefined ? 0 : decodeEntry(entryBytes)?.term ?? 0) > 0) return true;
    const snapshotBytes = dbs.snapshots.getBinary(shardId);
    return (snapshotBytes === undefined ? 0 : decodeSnapshot(snapshotBytes)?.meta.term ?? 0) > 0;
  }
  // Every other outcome of scanGroup keeps the record's term.
  if (record.hardState.term > 0) return true;
  const snapshotBytes = dbs.snapshots.getBinary(shardId);
  // A verified snapshot is kept; a damaged one takes the whole log with it.
  if (snapshotBytes !== undefined) return decodeSnapshot(snapshotBytes) !== undefined;
  if (record.firstIndex > 1) return true; // The verified prefix ends at firstIndex - 1 or later.
  if (record.lastIndex < 1) return false;
  const firstBytes = dbs.entries.getBinary([shardId, 1]);
  const first = firstBytes === undefined ? undefined : decodeEntry(firstBytes);
  return first !== undefined && first.index === 1 && first.term >= record.compactedTerm;
}

function damaged(view: GroupView, damage: NonNullable<RaftGroupState['damage']>): ScannedGroup {
  return { view: { ...view, lastIndexSeen: damage.lastIndexSeen }, damage };
}

/** Index of the last entry of the verified prefix starting at record.firstIndex. */
function lastVerifiedIndex(dbs: LogDbs, shardId: ShardId, record: GroupRecord): LogIndex {
  let expected = record.firstIndex as number;
  let previousTerm = record.compactedTerm as number;
  const range = dbs.entries.getRange({ start: [shardId, expected], end: [shardId, record.lastIndex + 1] });
  for (const { key, value } of range) {
    const entry = decodeEntry(value);
    if (entry === undefined || key[1] !== expected || entry.index !== expected || entry.term < previousTerm) break;
    previousTerm = entry.term;
    expected += 1;
  }
  return (expected - 1) as LogIndex;
}

function highestEntryKey(dbs: LogDbs, shardId: ShardId): number | undefined {
  const keys = dbs.entries.getKeys({
    start: [shardId, Number.MAX_SAFE_INTEGER],
    end: [shardId, 0],
    reverse: true,
    limit: 1,
  });
  for (const key of keys) return key[1];
  return undefined;
}

function withoutRecord(
  dbs: LogDbs,
  shardId: ShardId,
  found: { snapshotBytes: Buffer | undefined; highestKey: number | undefined },
): ScannedGroup {
  const snapshot = found.snapshotBytes === undefined ? undefined : decodeSnapshot(found.snapshotBytes);
  let term = snapshot?.meta.term ?? 0;
  if (found.highestKey !== undefined) {
    const bytes = dbs.entries.getBinary([shardId, found.highestKey]);
    term = Math.max(term, (bytes === undefined ? undefined : decodeEntry(bytes))?.term ?? 0);
  }
  const lastIndexSeen = Math.max(1, found.highestKey ?? 0, snapshot?.meta.index ?? 0) as LogIndex;
  const view: GroupView = {
    ...emptyGroupRecord,
    hardState: { term: term as Term, vote: 0, commit: 0 as LogIndex },
    snapshotMeta: undefined,
    hasStaleSnapshot: found.snapshotBytes !== undefined,
  };
  return damaged(view, { fromIndex: 1 as LogIndex, lastIndexSeen });
}

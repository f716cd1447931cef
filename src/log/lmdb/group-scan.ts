/**
 * Reads one group's stored state at load time and verifies all of it: the group record,
 * the snapshot and every entry from the first index on (checksum, contiguous indexes, a
 * run's key = its first entry's index, non-decreasing terms; entries a later run shadows
 * are not read). Never throws on damage: it returns the longest verified prefix
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
import { decodeEntryRun, entrySpans } from './entry-codec.js';
import { decodeGroupRecord, decodeSnapshot, emptyGroupRecord, type GroupRecord } from './group-record.js';
import { runsHolding, type LogDbs } from './log-dbs.js';

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
    const highest = highestEntry(dbs, shardId);
    if (recordBytes === undefined && snapshotBytes === undefined && highest === undefined) {
      return { view: { ...emptyGroupRecord, snapshotMeta: undefined }, damage: undefined };
    }
    return withoutRecord({ snapshotBytes, highest });
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
    if ((highestEntry(dbs, shardId)?.term ?? 0) > 0) return true;
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
  const firstRun = dbs.entries.getBinary([shardId, 1]);
  const first = firstRun === undefined ? undefined : decodeEntryRun(firstRun, 1, 2)[0];
  return first !== undefined && first.index === 1 && first.term >= record.compactedTerm;
}

function damaged(view: GroupView, damage: NonNullable<RaftGroupState['damage']>): ScannedGroup {
  return { view: { ...view, lastIndexSeen: damage.lastIndexSeen }, damage };
}

/** Index of the last entry of the verified prefix starting at record.firstIndex. */
function lastVerifiedIndex(dbs: LogDbs, shardId: ShardId, record: GroupRecord): LogIndex {
  let expected = record.firstIndex as number;
  let previousTerm = record.compactedTerm as number;
  const end = record.lastIndex + 1;
  for (const run of runsHolding(dbs, shardId, expected, end)) {
    const to = Math.min(end, run.next);
    if (run.first > expected || expected >= to) break;
    for (const entry of decodeEntryRun(run.value, expected, to)) {
      if (entry.index !== expected || entry.term < previousTerm) return (expected - 1) as LogIndex;
      previousTerm = entry.term;
      expected += 1;
    }
    if (expected < to) break;
  }
  return (expected - 1) as LogIndex;
}

/**
 * What the group's last stored run says of the highest entry: its index (the run's key
 * plus the entries its length fields delimit, verified or not, so damage cannot hide how
 * far the log once reached) and the term of the last entry that verifies (0 if none).
 */
function highestEntry(dbs: LogDbs, shardId: ShardId): { index: number; term: number } | undefined {
  const range = dbs.entries.getRange({ start: [shardId, Number.MAX_SAFE_INTEGER], end: [shardId, 0], reverse: true, limit: 1 });
  for (const { key, value } of range) {
    const entries = decodeEntryRun(value);
    return { index: key[1] + Math.max(0, entrySpans(value).length - 1), term: entries[entries.length - 1]?.term ?? 0 };
  }
  return undefined;
}

function withoutRecord(found: { snapshotBytes: Buffer | undefined; highest: { index: number; term: number } | undefined }): ScannedGroup {
  const snapshot = found.snapshotBytes === undefined ? undefined : decodeSnapshot(found.snapshotBytes);
  const term = Math.max(snapshot?.meta.term ?? 0, found.highest?.term ?? 0);
  const lastIndexSeen = Math.max(1, found.highest?.index ?? 0, snapshot?.meta.index ?? 0) as LogIndex;
  const view: GroupView = {
    ...emptyGroupRecord,
    hardState: { term: term as Term, vote: 0, commit: 0 as LogIndex },
    snapshotMeta: undefined,
    hasStaleSnapshot: found.snapshotBytes !== undefined,
  };
  return damaged(view, { fromIndex: 1 as LogIndex, lastIndexSeen });
}

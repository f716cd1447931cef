/**
 * The per-group record stored beside the entries (hard state and log bounds), and the
 * snapshot record, both as checksummed msgpack frames.
 *
 * The group record is rewritten in the same LMDB transaction as every change to the
 * group's log, so after a crash it always describes the entries that were flushed with
 * it: `lastIndex` is what lets load() notice entries that vanished (a cut log), not
 * only entries that fail their checksum.
 */
import { pack, unpack } from 'msgpackr';
import type { HardState, LogIndex, NodeId, Snapshot, SnapshotMeta, Term } from '../../raft/types.js';
import { openFrame, sealFrame } from './checksum.js';

export interface GroupRecord {
  readonly hardState: HardState;
  /** First entry still stored; compactedIndex + 1. */
  readonly firstIndex: LogIndex;
  /** Last entry stored (firstIndex - 1 when the log is empty). */
  readonly lastIndex: LogIndex;
  /** Term of entry firstIndex - 1 (0 when nothing was ever compacted). */
  readonly compactedTerm: Term;
  /**
   * Last index this replica ever stored, kept while damage left the log shorter than
   * that (0 otherwise): the damage mark must survive restarts until peers repair the log.
   */
  readonly lastIndexSeen: LogIndex;
}

export const emptyGroupRecord: GroupRecord = {
  hardState: { term: 0 as Term, vote: 0, commit: 0 as LogIndex },
  firstIndex: 1 as LogIndex,
  lastIndex: 0 as LogIndex,
  compactedTerm: 0 as Term,
  lastIndexSeen: 0 as LogIndex,
};

export function encodeGroupRecord(record: GroupRecord): Buffer {
  const { hardState: h } = record;
  const bounds = [record.firstIndex, record.lastIndex, record.compactedTerm, record.lastIndexSeen];
  return sealFrame(pack([h.term, h.vote, h.commit, ...bounds]));
}

export function decodeGroupRecord(bytes: Uint8Array): GroupRecord | undefined {
  const payload = openFrame(bytes);
  if (payload === undefined) return undefined;
  const fields: unknown = unpackOrUndefined(payload);
  if (!Array.isArray(fields) || fields.length !== 7 || !fields.every(isCount)) return undefined;
  const [term = 0, vote = 0, commit = 0, firstIndex = 0, lastIndex = 0, compactedTerm = 0, lastIndexSeen = 0] =
    fields as number[];
  if (firstIndex < 1 || lastIndex < firstIndex - 1) return undefined;
  return {
    hardState: { term: term as Term, vote: vote as HardState['vote'], commit: commit as LogIndex },
    firstIndex: firstIndex as LogIndex,
    lastIndex: lastIndex as LogIndex,
    compactedTerm: compactedTerm as Term,
    lastIndexSeen: lastIndexSeen as LogIndex,
  };
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const { meta } = snapshot;
  return sealFrame(
    pack([meta.index, meta.term, meta.conf.voters, meta.conf.learners, meta.conf.votersOutgoing, snapshot.data]),
  );
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot | undefined {
  const payload = openFrame(bytes);
  if (payload === undefined) return undefined;
  const fields: unknown = unpackOrUndefined(payload);
  if (!Array.isArray(fields) || fields.length !== 6) return undefined;
  const [index, term, voters, learners, votersOutgoing, data] = fields as unknown[];
  if (!isCount(index) || !isCount(term) || !(data instanceof Uint8Array)) return undefined;
  if (!isIdList(voters) || !isIdList(learners) || !isIdList(votersOutgoing)) return undefined;
  const meta: SnapshotMeta = {
    index: index as LogIndex,
    term: term as Term,
    conf: { voters, learners, votersOutgoing },
  };
  return { meta, data: new Uint8Array(data) };
}

function unpackOrUndefined(payload: Uint8Array): unknown {
  // The checksum passed, so a decode error means a writer bug or a collision; either way
  // the record is unusable and the caller reports damage rather than crashing load().
  try {
    return unpack(payload);
  } catch {
    return undefined;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isIdList(value: unknown): value is NodeId[] {
  return Array.isArray(value) && value.every(isCount);
}

/**
 * QueueStore on the node's queue state environment (`zaqar.lmdb`; one set of named databases shared by all
 * shards; every key starts with the shard id).
 *
 *   queue-records   [shard, project, queue]       → StoredQueue
 *   queue-entries   [shard, project, queue, seq]  → StoredMessage + body (message-entry.ts), or a run of
 *                                                   messages from seq on (message-run.ts)
 *   queue-ids       [shard, project, queue, id]   → seq, for ids not derived from the seq
 *   queue-claims    [shard, project, queue, claim id] → StoredClaim (one record per claim)
 *   queue-shards    shard                         → ShardMeta (applied index, …)
 *   queue-outbox    [shard, seq]                  → opaque bytes
 *   queue-applied   [shard, index]                → opaque bytes (dedup window)
 *
 * A post writes one record for all its messages (a run) and their ids are derived from
 * their seqs (common/ids.ts), so a lookup by id reads the seq from the id and checks the
 * id's tail in the entry. A read by seq finds the record at or before it (`locate`);
 * records of one message each, written before runs or by other writes, read on beside them.
 * Messages stored before (and those moved in from a dead-letter source, which keep
 * their id) have a `queue-ids` record too; their ids start with their second, so that
 * index grows at the end of each queue's range like the entries' seqs. The earlier layout kept
 * records and bodies in two databases; a store written that way is converted when it is
 * opened (queue-entries-migration.ts).
 *
 * Writes are lmdb-js asynchronous puts, held a few milliseconds and issued together
 * (write-hold.ts): all writes of one event-loop turn share one transaction, which is how a
 * shard's applied index always commits together with the state it describes. Point reads
 * go through PendingWrites so they see writes before their commit; range reads await
 * `committed()` (which issues what is held) and see committed state, overlaid with pending
 * values for keys they do visit.
 */
import type { Database, Key } from 'lmdb';
import { assert } from '../../common/assert.js';
import { seqInMessageId, type ShardId } from '../../common/ids.js';
import type { AppliedRecord, OutboxRecord, QueueKey, QueueStore, ShardMeta, StoredClaim, StoredMessage, StoredQueue } from '../queue-store.js';
import type { LmdbEnv } from './lmdb-env.js';
import { decodeMessageEntry, encodeMessageEntry, entryBody, entryHoldsIdTail, withUpdatedFields } from '../message-entry.js';
import { encodeMessageRun, isMessageRun, MessageRun } from '../message-run.js';
import { LmdbNumberedRecords } from './numbered-records.js';
import { migrateSplitMessages } from './queue-entries-migration.js';
import { PendingWrites, removed } from './pending-writes.js';
import { WriteHold } from './write-hold.js';

const seqMax = Number.MAX_SAFE_INTEGER;
const nameMax = '\uffff';

export class LmdbQueueStore implements QueueStore {
  private readonly queueRecords: PendingWrites<StoredQueue>;
  private readonly entries: PendingWrites<Uint8Array>;
  private readonly ids: PendingWrites<number>;
  private readonly metas: PendingWrites<ShardMeta>;
  private readonly claimRecords: PendingWrites<StoredClaim>;
  private readonly claimDb: Database<StoredClaim, Key>;
  private readonly outboxes: LmdbNumberedRecords;
  private readonly appliedRecords: LmdbNumberedRecords;
  private readonly queueDb: Database<StoredQueue, Key>;
  private readonly entryDb: Database<Uint8Array, Key>;
  private failure: unknown = undefined;
  private readonly hold: WriteHold;
  /**
   * The run `locate` found last, decoded: a claim, a listing's body reads or a delete of
   * many visit a run's messages one after another. Every write of its record replaces it
   * (`writeRecord`); runs never overlap, so no other write can change what it holds.
   */
  private lastRun: { readonly key: QueueKey; readonly recordSeq: number; readonly run: MessageRun } | undefined = undefined;

  /**
   * `onFailure` hears about a failed commit (the shard must stop serving). `commitDelayMs`:
   * how long writes are held so that rounds share a transaction (write-hold.ts); 0 issues
   * them at once.
   */
  constructor(
    private readonly env: LmdbEnv,
    onFailure: (error: unknown) => void = () => undefined,
    options: { readonly commitDelayMs?: number } = {},
  ) {
    const hold = (this.hold = new WriteHold(options.commitDelayMs ?? 0));
    const fail = (error: unknown): void => {
      this.failure ??= error;
      onFailure(error);
    };
    this.queueDb = env.openDB<StoredQueue, Key>({ name: 'queue-records' });
    this.entryDb = env.openDB<Uint8Array, Key>({ name: 'queue-entries', encoding: 'binary' });
    migrateSplitMessages(env, this.entryDb);
    this.queueRecords = new PendingWrites(this.queueDb, fail, hold);
    this.entries = new PendingWrites(this.entryDb, fail, hold);
    this.ids = new PendingWrites(env.openDB<number, Key>({ name: 'queue-ids' }), fail, hold);
    this.metas = new PendingWrites(env.openDB<ShardMeta, Key>({ name: 'queue-shards' }), fail, hold);
    this.claimDb = env.openDB<StoredClaim, Key>({ name: 'queue-claims' });
    this.claimRecords = new PendingWrites(this.claimDb, fail, hold);
    this.outboxes = new LmdbNumberedRecords(env, { name: 'queue-outbox', onFailure: fail, hold });
    this.appliedRecords = new LmdbNumberedRecords(env, { name: 'queue-applied', onFailure: fail, hold });
  }

  getQueue(key: QueueKey): StoredQueue | undefined {
    return this.queueRecords.get(queueTuple(key));
  }
  putQueue(key: QueueKey, queue: StoredQueue): void {
    this.checkHealthy();
    this.queueRecords.put(queueTuple(key), queue);
  }
  removeQueue(key: QueueKey): void {
    this.checkHealthy();
    this.queueRecords.remove(queueTuple(key));
  }
  *queues(shardId: ShardId, project: string, afterName?: string): Iterable<{ name: string; queue: StoredQueue }> {
    const range = this.queueDb.getRange({
      start: [shardId, project, afterName ?? ''],
      end: [shardId, project, nameMax],
      exclusiveStart: afterName !== undefined,
      snapshot: false,
    });
    for (const { key, value } of range) {
      const name = (key as unknown[])[2];
      assert(typeof name === 'string', 'queue-records key without a name');
      const current = this.queueRecords.peek([shardId, project, name]);
      if (current === removed) continue;
      yield { name, queue: current ?? value };
    }
  }
  *allQueues(shardId: ShardId): Iterable<{ project: string; name: string; queue: StoredQueue }> {
    for (const { key, value } of this.queueDb.getRange({ start: [shardId], end: [shardId + 1], snapshot: false })) {
      const [, project, name] = key as unknown[];
      assert(typeof project === 'string' && typeof name === 'string', 'malformed queue-records key');
      yield { project, name, queue: value };
    }
  }

  getMessage(key: QueueKey, seq: number): StoredMessage | undefined {
    const entry = this.locate(key, seq)?.entry;
    return entry === undefined ? undefined : decodeMessageEntry(entry, seq);
  }
  getBody(key: QueueKey, seq: number): Uint8Array | undefined {
    const entry = this.locate(key, seq)?.entry;
    return entry === undefined ? undefined : entryBody(entry);
  }
  getMessageWithBody(key: QueueKey, seq: number): { message: StoredMessage; body: Uint8Array } | undefined {
    const entry = this.locate(key, seq)?.entry;
    return entry === undefined ? undefined : { message: decodeMessageEntry(entry, seq), body: entryBody(entry) };
  }
  seqOfId(key: QueueKey, id: string): number | undefined {
    const seq = seqInMessageId(id);
    if (seq !== undefined) {
      const entry = this.locate(key, seq)?.entry;
      if (entry !== undefined && entryHoldsIdTail(entry, id)) return seq;
    }
    return this.ids.get([key.shardId, key.project, key.queue, id]);
  }
  insertMessage(key: QueueKey, message: StoredMessage, body: Uint8Array): void {
    this.checkHealthy();
    this.entries.put(messageTuple(key, message.seq), encodeMessageEntry(message, body));
    if (!isDerivedId(message)) this.ids.put([key.shardId, key.project, key.queue, message.id], message.seq);
  }
  insertMessageEntry(key: QueueKey, seq: number, id: string | undefined, entry: Uint8Array): void {
    this.checkHealthy();
    this.entries.put(messageTuple(key, seq), entry);
    if (id !== undefined) this.ids.put([key.shardId, key.project, key.queue, id], seq);
  }
  insertMessageRun(key: QueueKey, firstSeq: number, entries: Uint8Array, lengths: readonly number[]): void {
    if (lengths.length === 1) this.insertMessageEntry(key, firstSeq, undefined, entries.subarray(0, lengths[0]));
    else if (lengths.length > 1) {
      this.checkHealthy();
      this.entries.put(messageTuple(key, firstSeq), encodeMessageRun(entries, lengths));
    }
  }
  updateMessage(key: QueueKey, message: StoredMessage): void {
    this.checkHealthy();
    const located = this.locate(key, message.seq);
    assert(located !== undefined, () => `update of message ${message.id} (seq ${message.seq}), which is not stored`);
    const { entry, recordSeq, run, index } = located;
    const updated = withUpdatedFields(entry, message) ?? encodeMessageEntry(message, entryBody(entry));
    // In a run: the run rewritten with the member's new entry (a run's members keep their place).
    this.writeRecord(key, recordSeq, run === undefined ? updated : run.with(index, updated));
  }
  removeMessage(key: QueueKey, message: Pick<StoredMessage, 'id' | 'seq'>): void {
    this.removeMessages(key, [message]);
  }
  removeMessages(key: QueueKey, messages: readonly Pick<StoredMessage, 'id' | 'seq'>[]): void {
    this.checkHealthy();
    // A run keeps its other members, rewritten once for all of its messages that go here
    // (one at a time, a run of n removed whole would be copied n times); its last one
    // takes the record along.
    let taken: { recordSeq: number; run: MessageRun; indexes: Set<number> } | undefined;
    const rewrite = (): void => {
      if (taken === undefined) return;
      const { recordSeq, run, indexes } = taken;
      this.writeRecord(key, recordSeq, indexes.size === run.offsets.length ? undefined : run.without(indexes));
      taken = undefined;
    };
    for (const message of messages) {
      const located = this.locate(key, message.seq);
      if (located?.run === undefined) {
        if (located !== undefined) this.writeRecord(key, located.recordSeq, undefined);
      } else if (taken?.run === located.run) taken.indexes.add(located.index);
      else {
        rewrite();
        taken = { recordSeq: located.recordSeq, run: located.run, indexes: new Set([located.index]) };
      }
      if (!isDerivedId(message)) this.ids.remove([key.shardId, key.project, key.queue, message.id]);
    }
    rewrite();
  }
  *messages(key: QueueKey, afterSeq: number): Iterable<StoredMessage> {
    // A run stored at or before afterSeq may hold messages after it.
    const before = afterSeq >= 1 ? this.committedFloor(key, afterSeq) : undefined;
    if (before !== undefined) yield* this.membersAfter(before.recordSeq, before.value, afterSeq);
    const range = this.entryDb.getRange({
      start: messageTuple(key, afterSeq),
      end: messageTuple(key, seqMax),
      exclusiveStart: true,
      snapshot: false,
    });
    for (const { key: tuple, value } of range) {
      const recordSeq = seqOf(tuple);
      const current = this.entries.peek(messageTuple(key, recordSeq));
      if (current !== removed) yield* this.membersAfter(recordSeq, current ?? value, afterSeq);
    }
  }

  /** The messages after `afterSeq` of the record stored at `recordSeq`. */
  private *membersAfter(recordSeq: number, record: Uint8Array, afterSeq: number): Iterable<StoredMessage> {
    if (!isMessageRun(record)) {
      if (recordSeq > afterSeq) yield decodeMessageEntry(record, recordSeq);
      return;
    }
    const { offsets, entries } = new MessageRun(record);
    for (let i = 0; i < offsets.length; i++) {
      const seq = recordSeq + offsets[i]!;
      if (seq > afterSeq) yield decodeMessageEntry(entries[i]!, seq);
    }
  }

  /**
   * The entry of message `seq` and the record holding it: its own, or a run stored under
   * an earlier seq (`run`, the entry its member `index`). The record at or before `seq`
   * is the only one that can hold it (runs and records never overlap), pending writes
   * over committed ones.
   */
  private locate(key: QueueKey, seq: number): Located | undefined {
    const last = this.lastRun;
    if (last !== undefined && last.recordSeq <= seq && seq <= last.recordSeq + last.run.lastOffset() && isSameQueue(last.key, key)) {
      return member(last.recordSeq, last.run, seq);
    }
    const tuple = messageTuple(key, seq);
    const exact = this.entries.get(tuple);
    if (exact !== undefined) return this.holding(key, seq, exact, seq);
    const pending = this.entries.floor(tuple);
    const committed = this.committedFloor(key, seq);
    if (pending !== undefined && (committed === undefined || pending.last >= committed.recordSeq)) {
      return this.holding(key, pending.last, pending.value, seq);
    }
    return committed === undefined ? undefined : this.holding(key, committed.recordSeq, committed.value, seq);
  }

  /**
   * The committed record with the greatest seq at or below `seq` that no pending write
   * removed, as pending writes left it. Removed records are passed over: a queue deleted
   * and posted to again reuses its seqs, so a removed run may lie inside a live one.
   */
  private committedFloor(key: QueueKey, seq: number): { recordSeq: number; value: Uint8Array } | undefined {
    const range = this.entryDb.getRange({ start: messageTuple(key, seq), end: messageTuple(key, 0), reverse: true, snapshot: false });
    for (const { key: tuple, value } of range) {
      const recordSeq = seqOf(tuple);
      const current = this.entries.peek(messageTuple(key, recordSeq));
      if (current !== removed) return { recordSeq, value: current ?? value };
    }
    return undefined;
  }

  /** What the record stored at `recordSeq` holds of message `seq`. */
  private holding(key: QueueKey, recordSeq: number, value: Uint8Array, seq: number): Located | undefined {
    if (!isMessageRun(value)) return recordSeq === seq ? { entry: value, recordSeq, run: undefined, index: 0 } : undefined;
    const run = new MessageRun(value);
    this.lastRun = { key: { shardId: key.shardId, project: key.project, queue: key.queue }, recordSeq, run };
    return member(recordSeq, run, seq);
  }

  /** Writes (`undefined`: removes) the record at `recordSeq`, and keeps `lastRun` in step with it. */
  private writeRecord(key: QueueKey, recordSeq: number, value: Uint8Array | MessageRun | undefined): void {
    const tuple = messageTuple(key, recordSeq);
    const last = this.lastRun;
    if (last !== undefined && last.recordSeq === recordSeq && isSameQueue(last.key, key)) {
      this.lastRun = value instanceof MessageRun ? { key: last.key, recordSeq, run: value } : undefined;
    }
    if (value === undefined) this.entries.remove(tuple);
    else this.entries.put(tuple, value instanceof MessageRun ? value.value : value);
  }

  putClaim(key: QueueKey, claim: StoredClaim): void {
    this.checkHealthy();
    this.claimRecords.put([key.shardId, key.project, key.queue, claim.id], claim);
  }
  removeClaim(key: QueueKey, claimId: string): void {
    this.checkHealthy();
    this.claimRecords.remove([key.shardId, key.project, key.queue, claimId]);
  }
  *claims(shardId: ShardId): Iterable<{ project: string; queue: string; claim: StoredClaim }> {
    for (const { key, value } of this.claimDb.getRange({ start: [shardId], end: [shardId + 1], snapshot: false })) {
      const [, project, queue] = key as unknown[];
      assert(typeof project === 'string' && typeof queue === 'string', 'malformed queue-claims key');
      yield { project, queue, claim: value };
    }
  }

  getShardMeta(shardId: ShardId): ShardMeta | undefined {
    return this.metas.get([shardId]);
  }
  putShardMeta(shardId: ShardId, meta: ShardMeta): void {
    this.checkHealthy();
    this.metas.put([shardId], meta);
  }

  getOutbox(shardId: ShardId, seq: number): Uint8Array | undefined {
    return this.outboxes.get(shardId, seq);
  }
  putOutbox(shardId: ShardId, record: OutboxRecord): void {
    this.checkHealthy();
    this.outboxes.put(shardId, record.seq, record.data);
  }
  removeOutbox(shardId: ShardId, seq: number): void {
    this.checkHealthy();
    this.outboxes.remove(shardId, seq);
  }
  *outbox(shardId: ShardId): Iterable<OutboxRecord> {
    for (const { number, data } of this.outboxes.range(shardId)) yield { seq: number, data };
  }

  getApplied(shardId: ShardId, index: number): Uint8Array | undefined {
    return this.appliedRecords.get(shardId, index);
  }
  putApplied(shardId: ShardId, record: AppliedRecord): void {
    this.checkHealthy();
    this.appliedRecords.put(shardId, record.index, record.data);
  }
  removeApplied(shardId: ShardId, index: number): void {
    this.checkHealthy();
    this.appliedRecords.remove(shardId, index);
  }
  *applied(shardId: ShardId): Iterable<AppliedRecord> {
    for (const { number, data } of this.appliedRecords.range(shardId)) yield { index: number, data };
  }

  async committed(): Promise<void> {
    this.hold.issue();
    await Promise.all([
      this.queueRecords.committed(),
      this.entries.committed(),
      this.ids.committed(),
      this.metas.committed(),
      this.claimRecords.committed(),
      this.outboxes.committed(),
      this.appliedRecords.committed(),
    ]);
  }
  async flushed(): Promise<void> {
    await this.committed();
    await this.env.flushed;
  }

  private checkHealthy(): void {
    if (this.failure !== undefined) throw new Error('queue store write failed earlier', { cause: this.failure });
  }
}

/** Where a message is stored (see `LmdbQueueStore.locate`). */
interface Located {
  readonly entry: Uint8Array;
  /** The key's seq of the record holding it. */
  readonly recordSeq: number;
  /** The run holding it, undefined when the record is its own. */
  readonly run: MessageRun | undefined;
  /** Its member index in `run`. */
  readonly index: number;
}

function seqOf(tuple: Key): number {
  const seq = (tuple as unknown[])[3];
  assert(typeof seq === 'number', 'queue-entries key without a seq');
  return seq;
}

function member(recordSeq: number, run: MessageRun, seq: number): Located | undefined {
  const index = run.indexOf(seq - recordSeq);
  return index < 0 ? undefined : { entry: run.entries[index]!, recordSeq, run, index };
}

function isSameQueue(a: QueueKey, b: QueueKey): boolean {
  return a.queue === b.queue && a.project === b.project && a.shardId === b.shardId;
}

/** Whether the message's id is derived from its seq (common/ids.ts): found without the id index. */
function isDerivedId(message: Pick<StoredMessage, 'id' | 'seq'>): boolean {
  return seqInMessageId(message.id) === message.seq;
}

function queueTuple(key: QueueKey): (string | number)[] {
  return [key.shardId, key.project, key.queue];
}

function messageTuple(key: QueueKey, seq: number): (string | number)[] {
  return [key.shardId, key.project, key.queue, seq];
}

/**
 * The queue store's earlier LMDB layout, kept only to write data directories of that
 * layout for the migration tests (src/log/lmdb/queue-entries-migration.ts): this is
 * LmdbQueueStore as it was before messages moved into `queue-entries`, with each
 * message's record, body and id in three databases:
 *
 *   queue-records   [shard, project, queue]       → StoredQueue
 *   queue-messages  [shard, project, queue, seq]  → StoredMessage (msgpack, shared structures)
 *   queue-bodies    [shard, project, queue, seq]  → body bytes
 *   queue-ids       [shard, project, queue, id]   → seq
 *
 * (queue-records, queue-shards, queue-outbox and queue-applied are unchanged, so those
 * are written by the current store it extends). Do not change what it writes.
 */
import type { Database, Key } from 'lmdb';
import type { QueueKey, StoredMessage } from '../../../src/log/queue-store.js';
import type { LmdbEnv } from '../../../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../../../src/log/lmdb/lmdb-queue-store.js';
import { PendingWrites, removed } from '../../../src/log/lmdb/pending-writes.js';

export class SplitLayoutQueueStore extends LmdbQueueStore {
  private readonly messageDb: Database<StoredMessage, Key>;
  private readonly messageRecords: PendingWrites<StoredMessage>;
  private readonly bodies: PendingWrites<Uint8Array>;
  private readonly seqs: PendingWrites<number>;

  constructor(env: LmdbEnv) {
    super(env);
    const fail = (error: unknown): void => {
      throw error;
    };
    this.messageDb = env.openDB<StoredMessage, Key>({ name: 'queue-messages', sharedStructuresKey: Symbol.for('structures') });
    this.messageRecords = new PendingWrites(this.messageDb, fail);
    this.bodies = new PendingWrites(env.openDB<Uint8Array, Key>({ name: 'queue-bodies', encoding: 'binary' }), fail);
    this.seqs = new PendingWrites(env.openDB<number, Key>({ name: 'queue-ids' }), fail);
  }

  override getMessage(key: QueueKey, seq: number): StoredMessage | undefined {
    return this.messageRecords.get(messageTuple(key, seq));
  }
  override getBody(key: QueueKey, seq: number): Uint8Array | undefined {
    return this.bodies.get(messageTuple(key, seq));
  }
  override getMessageWithBody(key: QueueKey, seq: number): { message: StoredMessage; body: Uint8Array } | undefined {
    const message = this.getMessage(key, seq);
    const body = this.getBody(key, seq);
    return message === undefined || body === undefined ? undefined : { message, body };
  }
  override seqOfId(key: QueueKey, id: string): number | undefined {
    return this.seqs.get([key.shardId, key.project, key.queue, id]);
  }
  override insertMessage(key: QueueKey, message: StoredMessage, body: Uint8Array): void {
    const tuple = messageTuple(key, message.seq);
    this.messageRecords.put(tuple, message);
    this.bodies.put(tuple, body);
    this.seqs.put([key.shardId, key.project, key.queue, message.id], message.seq);
  }
  override updateMessage(key: QueueKey, message: StoredMessage): void {
    this.messageRecords.put(messageTuple(key, message.seq), message);
  }
  override removeMessage(key: QueueKey, message: Pick<StoredMessage, 'id' | 'seq'>): void {
    const tuple = messageTuple(key, message.seq);
    this.messageRecords.remove(tuple);
    this.bodies.remove(tuple);
    this.seqs.remove([key.shardId, key.project, key.queue, message.id]);
  }
  override removeMessages(key: QueueKey, messages: readonly Pick<StoredMessage, 'id' | 'seq'>[]): void {
    for (const message of messages) this.removeMessage(key, message);
  }
  override *messages(key: QueueKey, afterSeq: number): Iterable<StoredMessage> {
    const range = this.messageDb.getRange({
      start: messageTuple(key, afterSeq),
      end: messageTuple(key, Number.MAX_SAFE_INTEGER),
      exclusiveStart: true,
      snapshot: false,
    });
    for (const { value } of range) {
      const current = this.messageRecords.peek(messageTuple(key, value.seq));
      if (current === removed) continue;
      yield current ?? value;
    }
  }
  override async committed(): Promise<void> {
    await Promise.all([super.committed(), this.messageRecords.committed(), this.bodies.committed(), this.seqs.committed()]);
  }
}

function messageTuple(key: QueueKey, seq: number): (string | number)[] {
  return [key.shardId, key.project, key.queue, seq];
}

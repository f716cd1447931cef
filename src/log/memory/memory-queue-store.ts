/**
 * In-memory twin of LmdbQueueStore for simulations and fast tests. Same contract
 * (test/contract/queue-store.contract.ts): writes are visible at once to every read,
 * `committed()`/`flushed()` resolve immediately. Nothing survives the process.
 */
import type { ShardId } from '../../common/ids.js';
import type { AppliedRecord, OutboxRecord, QueueKey, QueueStore, ShardMeta, StoredClaim, StoredMessage, StoredQueue } from '../queue-store.js';
import { MemoryNumberedRecords } from './numbered-records.js';
import { decodeMessageEntry, entryBody, entryViews } from '../message-entry.js';

interface QueueSlot {
  readonly messages: Map<number, StoredMessage>;
  readonly bodies: Map<number, Uint8Array>;
  readonly seqById: Map<string, number>;
}

function slotKey(key: QueueKey): string {
  return `${key.shardId}\u0000${key.project}\u0000${key.queue}`;
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class MemoryQueueStore implements QueueStore {
  private readonly queueRecords = new Map<string, { key: QueueKey; queue: StoredQueue }>();
  private readonly slots = new Map<string, QueueSlot>();
  private readonly metas = new Map<ShardId, ShardMeta>();
  private readonly claimRecords = new Map<string, { key: QueueKey; claim: StoredClaim }>();
  private readonly outboxes = new MemoryNumberedRecords();
  private readonly appliedRecords = new MemoryNumberedRecords();

  getQueue(key: QueueKey): StoredQueue | undefined {
    return this.queueRecords.get(slotKey(key))?.queue;
  }
  putQueue(key: QueueKey, queue: StoredQueue): void {
    this.queueRecords.set(slotKey(key), { key: { ...key }, queue });
  }
  removeQueue(key: QueueKey): void {
    this.queueRecords.delete(slotKey(key));
  }
  *queues(shardId: ShardId, project: string, afterName?: string): Iterable<{ name: string; queue: StoredQueue }> {
    const found = [...this.queueRecords.values()].filter(
      (r) => r.key.shardId === shardId && r.key.project === project && (afterName === undefined || compareNames(r.key.queue, afterName) > 0),
    );
    found.sort((a, b) => compareNames(a.key.queue, b.key.queue));
    for (const r of found) yield { name: r.key.queue, queue: r.queue };
  }
  *allQueues(shardId: ShardId): Iterable<{ project: string; name: string; queue: StoredQueue }> {
    for (const r of [...this.queueRecords.values()]) {
      if (r.key.shardId === shardId) yield { project: r.key.project, name: r.key.queue, queue: r.queue };
    }
  }

  private slot(key: QueueKey): QueueSlot {
    const k = slotKey(key);
    let slot = this.slots.get(k);
    if (slot === undefined) {
      slot = { messages: new Map(), bodies: new Map(), seqById: new Map() };
      this.slots.set(k, slot);
    }
    return slot;
  }
  getMessage(key: QueueKey, seq: number): StoredMessage | undefined {
    return this.slots.get(slotKey(key))?.messages.get(seq);
  }
  getBody(key: QueueKey, seq: number): Uint8Array | undefined {
    return this.slots.get(slotKey(key))?.bodies.get(seq);
  }
  getMessageWithBody(key: QueueKey, seq: number): { message: StoredMessage; body: Uint8Array } | undefined {
    const message = this.getMessage(key, seq);
    const body = this.getBody(key, seq);
    return message === undefined || body === undefined ? undefined : { message, body };
  }
  seqOfId(key: QueueKey, id: string): number | undefined {
    return this.slots.get(slotKey(key))?.seqById.get(id);
  }
  insertMessage(key: QueueKey, message: StoredMessage, body: Uint8Array): void {
    const slot = this.slot(key);
    slot.messages.set(message.seq, message);
    slot.bodies.set(message.seq, body);
    slot.seqById.set(message.id, message.seq);
  }
  insertMessageEntry(key: QueueKey, seq: number, _id: string | undefined, entry: Uint8Array): void {
    this.insertMessage(key, decodeMessageEntry(entry, seq), entryBody(entry));
  }
  insertMessageRun(key: QueueKey, firstSeq: number, entries: Uint8Array, lengths: readonly number[]): void {
    entryViews({ entries, lengths }).forEach((entry, i) => this.insertMessageEntry(key, firstSeq + i, undefined, entry));
  }
  updateMessage(key: QueueKey, message: StoredMessage): void {
    this.slot(key).messages.set(message.seq, message);
  }
  removeMessage(key: QueueKey, message: Pick<StoredMessage, 'id' | 'seq'>): void {
    const k = slotKey(key);
    const slot = this.slots.get(k);
    if (slot === undefined) return;
    slot.messages.delete(message.seq);
    slot.bodies.delete(message.seq);
    slot.seqById.delete(message.id);
    if (slot.messages.size === 0) this.slots.delete(k);
  }
  removeMessages(key: QueueKey, messages: readonly Pick<StoredMessage, 'id' | 'seq'>[]): void {
    for (const message of messages) this.removeMessage(key, message);
  }
  *messages(key: QueueKey, afterSeq: number): Iterable<StoredMessage> {
    const slot = this.slots.get(slotKey(key));
    if (slot === undefined) return;
    const seqs = [...slot.messages.keys()].filter((s) => s > afterSeq).sort((a, b) => a - b);
    for (const seq of seqs) {
      const message = slot.messages.get(seq);
      if (message !== undefined) yield message;
    }
  }

  putClaim(key: QueueKey, claim: StoredClaim): void {
    this.claimRecords.set(`${slotKey(key)}\u0000${claim.id}`, { key: { ...key }, claim });
  }
  removeClaim(key: QueueKey, claimId: string): void {
    this.claimRecords.delete(`${slotKey(key)}\u0000${claimId}`);
  }
  *claims(shardId: ShardId): Iterable<{ project: string; queue: string; claim: StoredClaim }> {
    for (const { key, claim } of [...this.claimRecords.values()]) {
      if (key.shardId === shardId) yield { project: key.project, queue: key.queue, claim };
    }
  }

  getShardMeta(shardId: ShardId): ShardMeta | undefined {
    return this.metas.get(shardId);
  }
  putShardMeta(shardId: ShardId, meta: ShardMeta): void {
    this.metas.set(shardId, meta);
  }

  getOutbox(shardId: ShardId, seq: number): Uint8Array | undefined {
    return this.outboxes.get(shardId, seq);
  }
  putOutbox(shardId: ShardId, record: OutboxRecord): void {
    this.outboxes.put(shardId, record.seq, record.data);
  }
  removeOutbox(shardId: ShardId, seq: number): void {
    this.outboxes.remove(shardId, seq);
  }
  *outbox(shardId: ShardId): Iterable<OutboxRecord> {
    for (const { number, data } of this.outboxes.range(shardId)) yield { seq: number, data };
  }

  getApplied(shardId: ShardId, index: number): Uint8Array | undefined {
    return this.appliedRecords.get(shardId, index);
  }
  putApplied(shardId: ShardId, record: AppliedRecord): void {
    this.appliedRecords.put(shardId, record.index, record.data);
  }
  removeApplied(shardId: ShardId, index: number): void {
    this.appliedRecords.remove(shardId, index);
  }
  *applied(shardId: ShardId): Iterable<AppliedRecord> {
    for (const { number, data } of this.appliedRecords.range(shardId)) yield { index: number, data };
  }

  committed(): Promise<void> {
    return Promise.resolve();
  }
  flushed(): Promise<void> {
    return Promise.resolve();
  }
}

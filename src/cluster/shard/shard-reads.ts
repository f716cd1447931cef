/**
 * Read operations of one shard, answered from the applied state as of the caller's
 * `nowMs`: expiry, claim activity and delay are judged against the reader's clock, so
 * reads never need to change state (expired data is reclaimed by gc commands).
 *
 * Range reads (listing messages and queues) wait for pending store writes to commit
 * first, so a reader sees everything applied before it started. A deleted queue's record
 * (kept for its subscriptions, queue-existence.ts) is no queue: not listed nor counted.
 */
import { isTruthy } from '../../common/truthiness.js';
import type { QueueKey, StoredMessage } from '../../log/queue-store.js';
import type { ClaimRecord, MessageRecord, QueueRecord, QueueStatsRecord } from '../records.js';
import { effectiveMessage, extendedBy } from './claim-extension.js';
import { queueKeyOf } from './claim-index.js';
import { normaliseClientId, readMessageRecord } from './message-view.js';
import { existingQueue } from './queue-existence.js';
import type { QueueFsm } from './queue-fsm.js';
import type { SeqEntry } from './seq-set.js';

/**
 * Same fields as the api's ListMessagesOptions/ListQueuesOptions: cluster may not import
 * api (layering), so it declares what it consumes and the api's types match structurally.
 */
export interface MessageListing {
  readonly clientId: string;
  readonly afterSeq?: number;
  readonly limit: number;
  readonly echo: boolean;
  readonly includeClaimed: boolean;
  readonly includeDelayed: boolean;
}

/** A listing's messages, and whether delayed ones were included (asked for, or the queue is no delay queue). */
export interface MessagePage {
  readonly messages: MessageRecord[];
  readonly includesDelayed: boolean;
}

export interface QueueListing {
  readonly marker?: string;
  readonly limit: number;
  readonly name?: string;
  readonly filters?: Readonly<Record<string, string | number>>;
  readonly detailed: boolean;
}

export class ShardReader {
  constructor(private readonly fsm: QueueFsm) {}

  private key(project: string, queue: string): QueueKey {
    return { shardId: this.fsm.shardId, project, queue };
  }

  getMetadata(project: string, queue: string): Record<string, unknown> | null {
    return existingQueue(this.fsm.store.getQueue(this.key(project, queue)))?.metadata ?? null;
  }

  /**
   * Whether a claim of the queue at `nowMs` may claim, dead-letter or expire anything
   * (ClaimIndex.mayClaim), judged at the time its apply would use (never before the
   * state machine's clock). A queue that does not exist holds nothing: false, as its
   * claim answers nothing.
   */
  mayClaim(project: string, queue: string, nowMs: number): boolean {
    return this.fsm.index.mayClaim(queueKeyOf(project, queue), Math.max(nowMs, this.fsm.lastNowMs));
  }

  async listMessages(project: string, queue: string, options: MessageListing & { nowMs: number }): Promise<MessageRecord[]> {
    await this.fsm.store.committed();
    const key = this.key(project, queue);
    const indexKey = queueKeyOf(project, queue);
    const clientId = normaliseClientId(options.clientId);
    const found: MessageRecord[] = [];
    if (options.limit <= 0) return found;
    for (const stored of this.fsm.store.messages(key, options.afterSeq ?? 0)) {
      const message = effectiveMessage(this.fsm.index, indexKey, stored);
      const activeClaimId = this.fsm.index.activeHolder(indexKey, message.seq, options.nowMs)?.id ?? null;
      if (!isListed(message, activeClaimId, { ...options, clientId })) continue;
      found.push(readMessageRecord(this.fsm.store, key, message, activeClaimId));
      if (found.length >= options.limit) break;
    }
    return found;
  }

  /**
   * A listing as the reference answers it: delayed messages are hidden only on a delay
   * queue (truthy `_default_message_delay`) unless asked for. Both come from this
   * replica after one read barrier, where the api once needed a barrier for each.
   */
  async messagePage(project: string, queue: string, options: MessageListing & { nowMs: number }): Promise<MessagePage> {
    await this.fsm.store.committed();
    const includesDelayed = listsDelayed(this.getMetadata(project, queue), options.includeDelayed);
    return { messages: await this.listMessages(project, queue, { ...options, includeDelayed: includesDelayed }), includesDelayed };
  }

  getMessages(project: string, queue: string, options: { ids: readonly string[]; nowMs: number }): MessageRecord[] {
    const key = this.key(project, queue);
    const found: MessageRecord[] = [];
    for (const id of new Set(options.ids)) {
      const seq = this.fsm.store.seqOfId(key, id);
      const stored = seq === undefined ? undefined : this.fsm.store.getMessage(key, seq);
      const message = stored === undefined ? undefined : effectiveMessage(this.fsm.index, queueKeyOf(project, queue), stored);
      if (message === undefined || message.expiresMs <= options.nowMs) continue;
      const activeClaim = this.fsm.index.activeHolder(queueKeyOf(project, queue), message.seq, options.nowMs);
      found.push(readMessageRecord(this.fsm.store, key, message, activeClaim?.id ?? null));
    }
    return found;
  }

  getClaim(project: string, queue: string, options: { claimId: string; nowMs: number }): ClaimRecord | null {
    const claim = this.fsm.index.claim(queueKeyOf(project, queue), options.claimId);
    if (claim === undefined || claim.expiresMs <= options.nowMs) return null;
    const key = this.key(project, queue);
    const messages: MessageRecord[] = [];
    for (const held of claim.messages) {
      const stored = this.fsm.store.getMessage(key, held.seq);
      const message = stored === undefined ? undefined : extendedBy(claim, stored);
      if (message === undefined || message.expiresMs <= options.nowMs) continue;
      messages.push(readMessageRecord(this.fsm.store, key, message, claim.id));
    }
    if (messages.length === 0) return null;
    return { id: claim.id, ttlSeconds: claim.ttlSeconds, updatedMs: claim.updatedMs, messages };
  }

  /** Semantics §7: claimed = under an active claim; free = every other live message. */
  stats(project: string, queue: string, nowMs: number): QueueStatsRecord {
    const indexKey = queueKeyOf(project, queue);
    let claimed = 0;
    let free = 0;
    let oldest: SeqEntry | undefined;
    let newest: SeqEntry | undefined;
    const consider = (entry: SeqEntry): void => {
      if (entry.visibleMs > nowMs) return;
      if (oldest === undefined || entry.seq < oldest.seq) oldest = entry;
      if (newest === undefined || entry.seq > newest.seq) newest = entry;
    };
    for (const entry of this.fsm.index.free(indexKey)?.entries() ?? []) {
      if (entry.expiresMs <= nowMs) continue;
      free++;
      consider(entry);
    }
    for (const claim of this.fsm.index.claims(indexKey).values()) {
      for (const entry of claim.messages) {
        if (entry.expiresMs <= nowMs) continue;
        if (claim.expiresMs > nowMs) claimed++;
        else free++;
        consider(entry);
      }
    }
    const stats: QueueStatsRecord = { claimed, free, total: claimed + free };
    const key = this.key(project, queue);
    const describe = (entry: SeqEntry | undefined): { id: string; createdMs: number } | undefined => {
      const message = entry === undefined ? undefined : this.fsm.store.getMessage(key, entry.seq);
      return message === undefined ? undefined : { id: message.id, createdMs: message.createdMs };
    };
    const oldestRecord = describe(oldest);
    const newestRecord = describe(newest);
    return oldestRecord === undefined || newestRecord === undefined ? stats : { ...stats, oldest: oldestRecord, newest: newestRecord };
  }

  /** Queues of `project` on this shard after the marker, filtered, at most `limit`; `count` ignores filters. */
  async listQueues(project: string, options: QueueListing): Promise<{ queues: QueueRecord[]; count: number }> {
    await this.fsm.store.committed();
    const queues: QueueRecord[] = [];
    for (const { name, queue } of this.fsm.store.queues(this.fsm.shardId, project, options.marker)) {
      if (queues.length >= options.limit) break;
      if (queue.isDeleted === true) continue;
      if (options.name !== undefined && !name.includes(options.name)) continue;
      if (!matchesFilters(queue.metadata, options.filters)) continue;
      queues.push(options.detailed ? { name, metadata: queue.metadata } : { name });
    }
    let count = 0;
    for (const { queue } of this.fsm.store.queues(this.fsm.shardId, project)) {
      if (queue.isDeleted !== true) count++;
    }
    return { queues, count };
  }
}

/** Whether a listing includes delayed messages: asked for, or the queue is no delay queue (no truthy `_default_message_delay`). */
export function listsDelayed(metadata: Readonly<Record<string, unknown>> | null, isAsked: boolean): boolean {
  return isAsked || !isTruthy(metadata?.['_default_message_delay']);
}

function isListed(message: StoredMessage, activeClaimId: string | null, options: MessageListing & { nowMs: number }): boolean {
  if (message.expiresMs <= options.nowMs) return false;
  if (!options.echo && message.clientId === options.clientId) return false;
  if (!options.includeClaimed && activeClaimId !== null) return false;
  if (!options.includeDelayed && message.visibleMs > options.nowMs) return false;
  return true;
}

function matchesFilters(metadata: Readonly<Record<string, unknown>>, filters: Readonly<Record<string, string | number>> | undefined): boolean {
  if (filters === undefined) return true;
  return Object.entries(filters).every(([key, value]) => metadata[key] === value);
}

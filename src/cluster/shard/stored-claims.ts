/**
 * Claims between their two stored forms. A queue store keeps each claim as one record
 * (StoredClaim, one write per claim whatever it holds). A shard image carries each
 * message's active claim on the message itself (StoredMessage.claimId, …), the form every
 * store had before claim records, so images install on replicas of either layout.
 *
 * Conversions: capturing an image stamps each message with the live record holding it
 * and writes the record's §5.2 extension into it (`withClaimFields`), as messages carried
 * their extension before claim records held it; installing an image, or opening a store written before claim
 * records, gathers the claims found on messages into records (`ClaimsOnMessages`) and
 * stores the messages without them, so a message's own fields never name a claim that
 * was released since (they would revive it at the next start).
 */
import type { QueueKey, StoredClaim, StoredMessage } from '../../log/queue-store.js';
import { extendedBy } from './claim-extension.js';
import { queueKeyOf } from './claim-index.js';

interface ClaimOfQueue {
  readonly project: string;
  readonly queue: string;
  readonly claim: StoredClaim;
}

/** The claim records of one shard still live at the state machine's clock, by queue and seq. */
export class StoredClaims {
  private readonly bySeq = new Map<string, Map<number, StoredClaim>>();
  /** Records of claims that lapsed (kept by no message of the index): to be removed. */
  readonly lapsed: ClaimOfQueue[] = [];
  private readonly nowMs: number;

  constructor(records: Iterable<ClaimOfQueue>, nowMs: number) {
    this.nowMs = nowMs;
    for (const record of records) {
      if (record.claim.expiresMs <= nowMs) this.lapsed.push(record);
      const indexKey = queueKeyOf(record.project, record.queue);
      let seqs = this.bySeq.get(indexKey);
      if (seqs === undefined) {
        seqs = new Map();
        this.bySeq.set(indexKey, seqs);
      }
      for (const seq of record.claim.seqs) {
        // A live claim wins over a lapsed record still naming the seq.
        if ((seqs.get(seq)?.expiresMs ?? 0) <= nowMs) seqs.set(seq, record.claim);
      }
    }
  }

  /** The live claim whose record names `seq` of the queue (a seq deleted since has no message to ask). */
  holding(queueKey: string, seq: number): StoredClaim | undefined {
    const claim = this.bySeq.get(queueKey)?.get(seq);
    return claim !== undefined && claim.expiresMs > this.nowMs ? claim : undefined;
  }

  /**
   * The message as the claims see it: stamped with its live claim (withClaimFields), and
   * extended by the claim that held it, live or lapsed, when that claim kept the extension.
   */
  imaged(queueKey: string, message: StoredMessage): StoredMessage {
    const claim = this.bySeq.get(queueKey)?.get(message.seq);
    if (claim === undefined) return withoutClaimFields(message);
    if (claim.expiresMs > this.nowMs) return withClaimFields(message, claim);
    return withoutClaimFields(extendedBy(claim, message));
  }
}

/** Whether the message's own fields carry a claim active at `nowMs`. */
export function hasClaimFields(message: StoredMessage, nowMs: number): boolean {
  return message.claimId !== null && message.claimExpiresMs > nowMs;
}

/** The message as an image carries it: stamped with the claim holding it (and its extension), or with none. */
export function withClaimFields(message: StoredMessage, claim: StoredClaim | undefined): StoredMessage {
  if (claim === undefined) return withoutClaimFields(message);
  return { ...extendedBy(claim, message), claimId: claim.id, claimExpiresMs: claim.expiresMs, claimUpdatedMs: claim.updatedMs, claimTtlSeconds: claim.ttlSeconds };
}

/** The message as a store keeps it now: its claim, if any, is in a claim record. */
export function withoutClaimFields(message: StoredMessage): StoredMessage {
  if (message.claimId === null && message.claimExpiresMs === 0 && message.claimUpdatedMs === 0 && message.claimTtlSeconds === 0) return message;
  return { ...message, claimId: null, claimExpiresMs: 0, claimUpdatedMs: 0, claimTtlSeconds: 0 };
}

/** Gathers claims carried on messages (an image, an older store) into claim records. */
export class ClaimsOnMessages {
  private readonly claims = new Map<string, { key: QueueKey; claim: StoredClaim & { seqs: number[] }; messages: StoredMessage[] }>();

  /** Adds a message whose fields carry an active claim (hasClaimFields). */
  add(key: QueueKey, message: StoredMessage): void {
    const claimId = message.claimId;
    if (claimId === null) return;
    const at = `${queueKeyOf(key.project, key.queue)}\u0000${claimId}`;
    let found = this.claims.get(at);
    if (found === undefined) {
      const claim = { id: claimId, expiresMs: message.claimExpiresMs, updatedMs: message.claimUpdatedMs, ttlSeconds: message.claimTtlSeconds, seqs: [] };
      found = { key, claim, messages: [] };
      this.claims.set(at, found);
    }
    found.claim.seqs.push(message.seq);
    found.messages.push(message);
  }

  get size(): number {
    return this.claims.size;
  }

  /** Each claim's record, and the messages that carried it (seqs ascending when added in seq order). */
  records(): Iterable<{ key: QueueKey; claim: StoredClaim; messages: readonly StoredMessage[] }> {
    return this.claims.values();
  }
}

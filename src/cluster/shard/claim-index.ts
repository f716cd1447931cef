/**
 * The hot-path index of one shard, in memory and derived from the queue store (rebuilt
 * at start): per queue, the messages not under a claim in seq order (SeqSet), and the
 * live claims with the messages they hold; over all queues, claims by expiry.
 *
 * "Live" here is relative to the state machine's clock: `expireClaims(nowMs)` runs at
 * the start of every applied command and returns the messages of claims that lapsed
 * to the free set. Between commands a claim in the index may already be expired for a
 * reader with a later clock, so reads compare expiries with their own `nowMs`.
 *
 * The index is where a message's claim is read (`holder`): the stored messages do not
 * carry their claim, each claim is one record of its own (StoredClaim).
 *
 * Invariants: a seq is in exactly one of (free set, one claim) of its queue, and
 * `holders` maps exactly the claimed seqs to their claim; a claim holds at least one
 * message; every claim is in the heap exactly once; a queue has its claim maps exactly
 * while it has a claim, and is indexed only while it has a message.
 */
import { assert } from '../../common/assert.js';
import { ExpiryHeap, type HeapItem } from './expiry-heap.js';
import { type SeqEntry, SeqSet } from './seq-set.js';

/**
 * A message a claim holds. `id` is its message id when the claim that took it read it
 * (absent after a restart or an image), so a delete under the claim can name it without
 * reading its stored entry.
 */
export interface HeldEntry extends SeqEntry {
  readonly id?: string;
}

export interface ClaimEntry extends HeapItem {
  readonly id: string;
  readonly queueKey: string;
  updatedMs: number;
  ttlSeconds: number;
  /**
   * The claim's §5.2 grace while its lifetime extension is not written into its messages'
   * records (claim-extension.ts); undefined when it is (claims stored before this field).
   */
  graceSeconds?: number | undefined;
  /** Held messages in ascending seq order, each with its effective (extended) expiry. */
  readonly messages: HeldEntry[];
}

interface QueueIndex {
  readonly free: SeqSet;
  /**
   * Present while the queue has a claim: most queues at most times have none, and two
   * empty Maps cost ~360 bytes (3.6 MB over 10,000 queues).
   */
  claimed: QueueClaims | undefined;
  /**
   * At or below the earliest expiry among the free messages (Infinity: none known), so
   * the expiry scan skips a queue with nothing due instead of walking its whole free set
   * every background round. Lowered on every add, made exact by a full scan.
   */
  freeExpiryFloorMs: number;
}

interface QueueClaims {
  readonly claims: Map<string, ClaimEntry>;
  /** The claim holding each claimed seq. */
  readonly holders: Map<number, ClaimEntry>;
}

const noClaims: ReadonlyMap<string, ClaimEntry> = new Map();

/** Free messages mayClaim reads before it gives up and answers "maybe". */
const claimableScanMax = 64;

export function queueKeyOf(project: string, queue: string): string {
  return `${project}\u0000${queue}`;
}

/** The inverse of queueKeyOf. */
export function queueOfKey(queueKey: string): { project: string; queue: string } {
  const split = queueKey.indexOf('\u0000');
  return { project: queueKey.slice(0, split), queue: queueKey.slice(split + 1) };
}

export class ClaimIndex {
  private readonly queues = new Map<string, QueueIndex>();
  private readonly expiries = new ExpiryHeap<ClaimEntry>();

  /** Number of claims currently held in the index (expired or not). */
  get claimCount(): number {
    return this.expiries.size;
  }

  addFree(queueKey: string, entry: SeqEntry): void {
    addFreeTo(this.queueIndex(queueKey), entry);
  }

  /** Removes a message from the free set; false when it is not there. */
  removeFree(queueKey: string, seq: number): boolean {
    const index = this.queues.get(queueKey);
    if (index === undefined) return false;
    const wasFree = index.free.remove(seq);
    this.dropIfEmpty(queueKey, index);
    return wasFree;
  }

  free(queueKey: string): SeqSet | undefined {
    return this.queues.get(queueKey)?.free;
  }

  claims(queueKey: string): ReadonlyMap<string, ClaimEntry> {
    return this.queues.get(queueKey)?.claimed?.claims ?? noClaims;
  }

  claim(queueKey: string, claimId: string): ClaimEntry | undefined {
    return this.queues.get(queueKey)?.claimed?.claims.get(claimId);
  }

  /** The claim holding `seq` (which may have expired for a reader with a later clock). */
  holder(queueKey: string, seq: number): ClaimEntry | undefined {
    return this.queues.get(queueKey)?.claimed?.holders.get(seq);
  }

  /**
   * The seq of message `id` when a claim holds it under that id (a delete under its claim
   * finds it without a store read); undefined when no claim does, or none knows its id.
   */
  heldSeqOf(queueKey: string, id: string, seq: number | undefined): number | undefined {
    if (seq === undefined) return undefined;
    const held = this.holder(queueKey, seq)?.messages;
    if (held === undefined) return undefined;
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((held[mid]?.seq ?? Infinity) < seq) lo = mid + 1;
      else hi = mid;
    }
    return held[lo]?.id === id ? seq : undefined;
  }

  /** The claim holding `seq` while it is active at `nowMs` (semantics §5.5). */
  activeHolder(queueKey: string, seq: number, nowMs: number): ClaimEntry | undefined {
    const claim = this.holder(queueKey, seq);
    return claim !== undefined && claim.expiresMs > nowMs ? claim : undefined;
  }

  /** Up to `limit` free messages, oldest first, neither expired nor delayed at `nowMs`. */
  candidates(queueKey: string, nowMs: number, limit: number): SeqEntry[] {
    const found: SeqEntry[] = [];
    const free = this.queues.get(queueKey)?.free;
    if (free === undefined || limit <= 0) return found;
    for (const entry of free.entries()) {
      if (entry.expiresMs <= nowMs || entry.visibleMs > nowMs) continue;
      found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  /**
   * Whether a claim of the queue applied at `nowMs` could change anything: a free message
   * is claimable (or due for its dead-letter queue, which the claim moves it to), or some
   * claim of the shard has lapsed (every applied command expires those). False only when
   * certainly not; after `claimableScanMax` free messages all delayed or expired it
   * answers true rather than read on, so the check stays cheap on any queue.
   */
  mayClaim(queueKey: string, nowMs: number): boolean {
    if ((this.expiries.peek()?.expiresMs ?? Infinity) <= nowMs) return true;
    const free = this.queues.get(queueKey)?.free;
    if (free === undefined) return false;
    let scanned = 0;
    for (const entry of free.entries()) {
      if (entry.expiresMs > nowMs && entry.visibleMs <= nowMs) return true;
      if (++scanned >= claimableScanMax) return true;
    }
    return false;
  }

  /** Moves `messages` (all free) into a new claim. */
  addClaim(queueKey: string, claim: { id: string; expiresMs: number; updatedMs: number; ttlSeconds: number; graceSeconds?: number | undefined; messages: HeldEntry[] }): void {
    const index = this.queueIndex(queueKey);
    const { claims, holders } = claimsOf(index);
    assert(!claims.has(claim.id), () => `claim ${claim.id} already indexed`);
    assert(claim.messages.length > 0, 'a claim must hold a message');
    const entry: ClaimEntry = { ...claim, queueKey, messages: [...claim.messages].sort((a, b) => a.seq - b.seq), heapSlot: -1 };
    for (const message of entry.messages) {
      assert(index.free.remove(message.seq), () => `claimed seq ${message.seq} was not free`);
      holders.set(message.seq, entry);
    }
    claims.set(claim.id, entry);
    this.expiries.push(entry);
  }

  /** Adds a claimed message while rebuilding from storage (the claim is created on first use). */
  restoreClaimed(queueKey: string, claim: { id: string; expiresMs: number; updatedMs: number; ttlSeconds: number; graceSeconds?: number | undefined }, message: SeqEntry): void {
    const { claims, holders } = claimsOf(this.queueIndex(queueKey));
    let entry = claims.get(claim.id);
    if (entry === undefined) {
      entry = { ...claim, queueKey, messages: [], heapSlot: -1 };
      claims.set(claim.id, entry);
      this.expiries.push(entry);
    }
    const at = entry.messages.findIndex((m) => m.seq > message.seq);
    entry.messages.splice(at === -1 ? entry.messages.length : at, 0, message);
    holders.set(message.seq, entry);
  }

  renew(claim: ClaimEntry, update: { expiresMs: number; updatedMs: number; ttlSeconds: number; graceSeconds: number }): void {
    claim.expiresMs = update.expiresMs;
    claim.updatedMs = update.updatedMs;
    claim.ttlSeconds = update.ttlSeconds;
    claim.graceSeconds = update.graceSeconds;
    this.expiries.update(claim);
  }

  /** Records a held message's new expiry (after a lifetime extension). */
  setClaimedExpiry(claim: ClaimEntry, seq: number, expiresMs: number): void {
    const at = claim.messages.findIndex((m) => m.seq === seq);
    const message = claim.messages[at];
    assert(message !== undefined, () => `seq ${seq} is not held by claim ${claim.id}`);
    claim.messages[at] = { ...message, expiresMs };
  }

  /** Removes a held message (deleted or dead-lettered); drops the claim when empty. */
  removeClaimed(claim: ClaimEntry, seq: number): boolean {
    const at = claim.messages.findIndex((m) => m.seq === seq);
    if (at === -1) return false;
    claim.messages.splice(at, 1);
    this.queues.get(claim.queueKey)?.claimed?.holders.delete(seq);
    if (claim.messages.length === 0) this.dropClaim(claim);
    return true;
  }

  /** Returns the claim's messages to the free set and forgets the claim. */
  release(claim: ClaimEntry): void {
    const index = this.queues.get(claim.queueKey);
    const claimed = index?.claimed;
    assert(index !== undefined && claimed?.claims.get(claim.id) === claim, () => `claim ${claim.id} is not indexed`);
    for (const message of claim.messages) {
      addFreeTo(index, message);
      claimed.holders.delete(message.seq);
    }
    claim.messages.length = 0;
    this.dropClaim(claim);
  }

  /**
   * Releases every claim whose expiry is at or before `nowMs`; returns them (emptied).
   * `beforeRelease` sees each while it still holds its messages.
   */
  expireClaims(nowMs: number, beforeRelease?: (claim: ClaimEntry) => void): ClaimEntry[] {
    const expired: ClaimEntry[] = [];
    for (let claim = this.expiries.peek(); claim !== undefined && claim.expiresMs <= nowMs; claim = this.expiries.peek()) {
      beforeRelease?.(claim);
      this.release(claim);
      expired.push(claim);
    }
    return expired;
  }

  /** Forgets a queue entirely; returns the seqs it held (free and claimed). */
  dropQueue(queueKey: string): number[] {
    const index = this.queues.get(queueKey);
    if (index === undefined) return [];
    const seqs = [...index.free.entries()].map((e) => e.seq);
    for (const claim of [...(index.claimed?.claims.values() ?? [])]) {
      for (const message of claim.messages) seqs.push(message.seq);
      this.expiries.remove(claim);
    }
    this.queues.delete(queueKey);
    return seqs.sort((a, b) => a - b);
  }

  /** Queues that hold a claim now, and so their claim maps (tests, diagnostics; O(queues)). */
  get queuesWithClaims(): number {
    let count = 0;
    for (const index of this.queues.values()) if (index.claimed !== undefined) count++;
    return count;
  }

  /** Messages indexed over all queues, and how many of them a claim holds (for metrics; O(queues + claims)). */
  messageCounts(): { messages: number; claimed: number } {
    let free = 0;
    let claimed = 0;
    for (const index of this.queues.values()) {
      free += index.free.size;
      for (const claim of index.claimed?.claims.values() ?? []) claimed += claim.messages.length;
    }
    return { messages: free + claimed, claimed };
  }

  /**
   * Free messages expired at `nowMs`, at most `max`, queue by queue in key order (the
   * same on every replica, whatever order its queues were indexed in). Queues whose
   * expiry floor is in the future are skipped: they hold nothing expired.
   */
  expiredFree(nowMs: number, max: number): { queueKey: string; seq: number }[] {
    const found: { queueKey: string; seq: number }[] = [];
    const due = [...this.queues.entries()].filter(([, index]) => index.freeExpiryFloorMs <= nowMs);
    for (const [queueKey, index] of due.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      let earliestMs = Infinity;
      for (const entry of index.free.entries()) {
        if (found.length >= max) return found;
        if (entry.expiresMs <= nowMs) found.push({ queueKey, seq: entry.seq });
        earliestMs = Math.min(earliestMs, entry.expiresMs);
      }
      // Scanned in full: the floor is now exact.
      index.freeExpiryFloorMs = earliestMs;
    }
    return found;
  }

  /** Forgets every queue and claim (a snapshot replaced the shard's state). */
  clear(): void {
    for (const index of this.queues.values()) {
      for (const claim of index.claimed?.claims.values() ?? []) this.expiries.remove(claim);
    }
    this.queues.clear();
    assert(this.expiries.size === 0, 'a claim outside every queue index');
  }

  private dropClaim(claim: ClaimEntry): void {
    const index = this.queues.get(claim.queueKey);
    const claimed = index?.claimed;
    assert(index !== undefined && claimed !== undefined, 'claim of an unindexed queue');
    claimed.claims.delete(claim.id);
    if (claimed.claims.size === 0) index.claimed = undefined;
    this.expiries.remove(claim);
    this.dropIfEmpty(claim.queueKey, index);
  }

  private queueIndex(queueKey: string): QueueIndex {
    let index = this.queues.get(queueKey);
    if (index === undefined) {
      index = { free: new SeqSet(), claimed: undefined, freeExpiryFloorMs: Infinity };
      this.queues.set(queueKey, index);
    }
    return index;
  }

  private dropIfEmpty(queueKey: string, index: QueueIndex): void {
    if (index.free.size === 0 && index.claimed === undefined) this.queues.delete(queueKey);
  }
}

function claimsOf(index: QueueIndex): QueueClaims {
  index.claimed ??= { claims: new Map(), holders: new Map() };
  return index.claimed;
}

function addFreeTo(index: QueueIndex, entry: SeqEntry): void {
  index.free.add(entry);
  index.freeExpiryFloorMs = Math.min(index.freeExpiryFloorMs, entry.expiresMs);
}

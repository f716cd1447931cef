/**
 * The deterministic state machine of one shard: applies log entries (encoded
 * ShardCommands) to the queue store and the in-memory claim index.
 *
 * Determinism: apply reads no clock and no randomness. Its "now" is the command's
 * `nowMs`, clamped to never go below the latest applied one (so a proposer with a
 * slower clock cannot revive an expired claim); that clamp is itself state, stored
 * with the applied index. Replicas applying the same entries hold the same state.
 *
 * Crash consistency: the applied index is written once per applied batch, in the same
 * event-loop turn (hence the same LMDB transaction) as the batch's state writes, so on
 * restart `recover()` finds state matching `appliedIndex` and the owner replays the log
 * from `appliedIndex + 1`.
 *
 * At most once: a command with a dedup key (command-ids.ts) that is still in the
 * AppliedWindow is not applied again; it changes nothing and returns its first result
 * (a claim's rebuilt from the current state of the messages it holds: applied-result.ts).
 * The window is replicated state like the rest (stored as one record per applied
 * batch, with the batch; carried in the image one record per command).
 *
 * Snapshots: `snapshot()` encodes the shard's stored state as a ShardImage and
 * `restore()` replaces it with one. Both read the store's committed state, so they may
 * only run once `awaitCommitted()` resolved with nothing applied since (asserted).
 */
import { assert, unreachable } from '../../common/assert.js';
import type { LogIndex, ShardId } from '../../common/ids.js';
import type { AppliedRecord, QueueKey, QueueStore, ShardMeta, StoredMessage } from '../../log/queue-store.js';
import { ClaimIndex, queueKeyOf } from './claim-index.js';
import { AppliedWindow, type AppliedWindowLimits, defaultAppliedWindowLimits } from './applied-window.js';
import { applyClaim, applyRelease, applyRenew, expireClaims } from './claim-writes.js';
import { dedupKeyOf } from './command-ids.js';
import { type BatchCommand, decodeCommand, type ShardCommand } from './commands.js';
import {
  applyDeleteMessage,
  applyDeleteMessages,
  applyDlqInsert,
  applyGc,
  applyPop,
  applyPost,
} from './message-writes.js';
import { bindingRecord, placedProjectSuffix, QueueBindings, type MovedAnswer, type QueuePlacement } from './queue-placement.js';
import { applyCreateQueue, applyDeleteQueue, applyPurge, applySetMetadata } from './queue-writes.js';
import type { AnyCommandResult } from './results.js';
import type { ShardContext } from './shard-context.js';
import { captureShardImage, decodeShardImage, encodeShardImage, installShardImage } from './shard-image.js';
import { ClaimsOnMessages, hasClaimFields, StoredClaims, withoutClaimFields } from './stored-claims.js';
import { applySubscription } from './subscription-writes.js';

export interface LogEntryData {
  readonly index: LogIndex;
  /** An encoded ShardCommand; empty for a leader's no-op entry. */
  readonly data: Uint8Array;
}

/** A command applied on its own (a batch applies its commands one by one: applyEntry). */
type SingleCommand = Exclude<ShardCommand, BatchCommand>;

const initialMeta: ShardMeta = { appliedIndex: 0, lastNowMs: 0, nextOutboxSeq: 1, inbox: {} };

export class QueueFsm {
  readonly index = new ClaimIndex();
  /** Names of this shard's hash range placed on other shards (queue-placement.ts). */
  private readonly bindings = new QueueBindings();
  private meta: ShardMeta;
  private readonly context: ShardContext;
  private readonly window: AppliedWindow;
  /** Counts apply/restore calls, so awaitCommitted knows whether any ran meanwhile. */
  private writeCount = 0;
  /** Writes were issued since the store last reported them committed (none at start: the index is rebuilt from committed state too). */
  private hasUncommittedWrites = false;

  constructor(
    readonly shardId: ShardId,
    readonly store: QueueStore,
    /** Tests shrink the window; in service every replica uses the default. */
    windowLimits: AppliedWindowLimits = defaultAppliedWindowLimits,
  ) {
    this.meta = store.getShardMeta(shardId) ?? initialMeta;
    this.window = new AppliedWindow(shardId, store, this.index, windowLimits);
    if (this.window.load(store.applied(shardId), this.meta.lastNowMs)) this.wrote();
    this.context = {
      shardId,
      store,
      index: this.index,
      appendOutbox: (data) => {
        const seq = this.meta.nextOutboxSeq;
        this.meta = { ...this.meta, nextOutboxSeq: seq + 1 };
        store.putOutbox(shardId, { seq, data });
        return seq;
      },
      acceptInbox: (sourceShard, outboxSeq) => {
        const seen = this.meta.inbox[String(sourceShard)] ?? 0;
        if (outboxSeq <= seen) return false;
        this.meta = { ...this.meta, inbox: { ...this.meta.inbox, [String(sourceShard)]: outboxSeq } };
        return true;
      },
    };
    this.rebuildIndex();
    this.bindings.load(store.allQueues(shardId));
  }

  /** Where a name of this shard's hash range lives when it is bound elsewhere. */
  placementOf(project: string, queue: string): QueuePlacement | undefined {
    return this.bindings.of(project, queue);
  }

  get appliedIndex(): LogIndex {
    return this.meta.appliedIndex as LogIndex;
  }

  /** The state machine's clock: the latest command time applied. */
  get lastNowMs(): number {
    return this.meta.lastNowMs;
  }

  /** Applies consecutive entries; returns one result per entry (undefined for no-ops). */
  apply(entries: readonly LogEntryData[]): (AnyCommandResult | undefined)[] {
    const results: (AnyCommandResult | undefined)[] = [];
    if (entries.length === 0) return results;
    for (const entry of entries) {
      assert(entry.index === this.meta.appliedIndex + 1, () => `shard ${this.shardId} applies ${entry.index} after ${this.meta.appliedIndex}`);
      results.push(entry.data.length === 0 ? undefined : this.applyEntry(entry.index, decodeCommand(entry.data)));
      // Object.assign rather than spreads here and in applyCommand: see command-ids.ts withCommandId.
      this.meta = Object.assign({}, this.meta, { appliedIndex: entry.index });
    }
    this.window.endBatch();
    this.store.putShardMeta(this.shardId, this.meta);
    this.wrote();
    return results;
  }

  /** Resolves once every write so far is committed; snapshot/restore need that state. */
  async awaitCommitted(): Promise<void> {
    const writesBefore = this.writeCount;
    await this.store.committed();
    // A write issued while waiting is not covered: the caller has to wait again.
    if (this.writeCount === writesBefore) this.hasUncommittedWrites = false;
  }

  /** Whether the store's committed state is this FSM's state (snapshot/restore may run). */
  get isCommitted(): boolean {
    return !this.hasUncommittedWrites;
  }

  /** An encoded image of the shard's state as of `appliedIndex`. */
  snapshot(): { index: LogIndex; data: Uint8Array } {
    assert(this.isCommitted, () => `shard ${this.shardId}: snapshot before the applied state is committed`);
    const image = captureShardImage(this.store, this.shardId, this.meta, this.window.commandRecords());
    return { index: this.appliedIndex, data: encodeShardImage(image) };
  }

  /** Replaces the shard's state with an image from `snapshot()` (of any replica). */
  restore(data: Uint8Array): void {
    assert(this.isCommitted, () => `shard ${this.shardId}: restore before the applied state is committed`);
    const image = decodeShardImage(data);
    assert(image.shardId === this.shardId, () => `shard ${this.shardId}: image of shard ${image.shardId}`);
    installShardImage(this.store, image);
    this.meta = image.meta;
    this.window.load(image.applied ?? [], image.meta.lastNowMs);
    this.wrote();
    this.index.clear();
    this.bindings.load(image.queues);
    for (const { project, name, messages } of image.queues) {
      for (const message of messages) this.indexMessage(queueKeyOf(project, name), message, undefined);
    }
  }

  /**
   * Drops the shard's whole state, as if nothing had been applied: this node no longer
   * holds a replica of the shard. Same precondition as restore (committed state).
   */
  forget(): void {
    this.restore(encodeShardImage({ shardId: this.shardId, meta: initialMeta, queues: [], outbox: [] }));
  }

  /** How many applied commands the dedup window holds (AppliedWindow). */
  get windowSize(): number {
    return this.window.size;
  }

  /** The dedup window's commands, one record each, as a snapshot's image carries them. */
  windowRecords(): AppliedRecord[] {
    return this.window.commandRecords();
  }

  /** A batch's commands apply one after the other, each as an entry of its own would (all at the batch's index). */
  private applyEntry(index: LogIndex, command: ShardCommand): AnyCommandResult {
    if (command.type !== 'batch') return this.applyOnce(index, command);
    return { results: command.commands.map((batched) => this.applyOnce(index, batched)) };
  }

  /** Applies `command` unless its key is in the window; a repeat touches no state at all. */
  private applyOnce(index: LogIndex, command: SingleCommand): AnyCommandResult {
    const key = dedupKeyOf(command);
    const first = key === undefined ? undefined : this.window.resultOf(key, { type: command.type, nowMs: this.meta.lastNowMs });
    // A repeat answers what its first apply did, even if the name was bound since.
    if (first !== undefined) return first;
    const moved = this.movedFor(command);
    // A cast, not a result type: the broker sees `moved` before it reads any result (isMoved).
    // Not remembered: nothing was applied, and a repeat is answered `moved` again.
    if (moved !== undefined) return moved as unknown as AnyCommandResult;
    const result = this.applyCommand(command);
    if (key !== undefined) this.window.remember({ index, nowMs: this.meta.lastNowMs }, { key, command, result });
    this.window.evict(this.meta.lastNowMs);
    return result;
  }

  /** A queue command for a name bound elsewhere applies nothing and answers where it lives. */
  private movedFor(command: ShardCommand): MovedAnswer | undefined {
    if (command.type === 'place' || !('project' in command)) return undefined;
    const placement = this.bindings.of(command.project, command.queue);
    return placement === undefined ? undefined : { moved: placement };
  }

  /** Binds a name that is neither a queue here nor bound yet; answers the binding in force. */
  private applyPlace(command: Extract<ShardCommand, { type: 'place' }>, nowMs: number): { placed: QueuePlacement | null } {
    const { project, queue } = command;
    const bound = this.bindings.of(project, queue);
    if (bound !== undefined) return { placed: bound };
    // A record kept only for its subscriptions (queue-existence.ts) counts too: re-created here, the queue finds them.
    if (this.store.getQueue({ shardId: this.shardId, project, queue }) !== undefined) return { placed: null };
    const placement: QueuePlacement = { shardId: command.shardId, replicas: command.replicas };
    this.store.putQueue({ shardId: this.shardId, project: project + placedProjectSuffix, queue }, bindingRecord(placement, nowMs));
    this.bindings.add(project, queue, placement);
    return { placed: placement };
  }

  private applyCommand(command: SingleCommand): AnyCommandResult {
    const nowMs = Math.max(command.nowMs, this.meta.lastNowMs);
    this.meta = Object.assign({}, this.meta, { lastNowMs: nowMs });
    const context = this.context;
    expireClaims(context, nowMs);
    switch (command.type) {
      case 'createQueue':
        return applyCreateQueue(context, command, nowMs);
      case 'setMetadata':
        return applySetMetadata(context, command);
      case 'deleteQueue':
        return applyDeleteQueue(context, command, nowMs);
      case 'purge':
        return applyPurge(context, command);
      case 'place':
        return this.applyPlace(command, nowMs);
      case 'post':
        return applyPost(context, command, nowMs);
      case 'deleteMessages':
        return applyDeleteMessages(context, command, nowMs);
      case 'pop':
        return applyPop(context, command, nowMs);
      case 'deleteMessage':
        return applyDeleteMessage(context, command, nowMs);
      case 'claim':
        return applyClaim(context, command, nowMs);
      case 'renew':
        return applyRenew(context, command, nowMs);
      case 'release':
        return applyRelease(context, command);
      case 'dlqInsert':
        return applyDlqInsert(context, command, nowMs);
      case 'gc':
        return applyGc(context, command, nowMs);
      case 'outboxAck':
        this.store.removeOutbox(this.shardId, command.outboxSeq);
        return { acked: true };
      case 'subscription':
        return applySubscription(context, command, nowMs);
      default:
        return unreachable(command, 'shard command');
    }
  }

  /**
   * Rebuilds the claim index from the store. A stored claim is live when it expires
   * after the state machine's clock; older ones were already returned to the free set.
   * A store written before claim records keeps claims on its messages: each live one
   * becomes a record and leaves its messages (stored-claims.ts), once.
   */
  private rebuildIndex(): void {
    const claims = new StoredClaims(this.store.claims(this.shardId), this.meta.lastNowMs);
    const onMessages = new ClaimsOnMessages();
    const extended: { key: QueueKey; message: StoredMessage }[] = [];
    for (const { project, name } of this.store.allQueues(this.shardId)) {
      const key = { shardId: this.shardId, project, queue: name };
      const indexKey = queueKeyOf(project, name);
      for (const message of this.store.messages(key, 0)) {
        const record = claims.holding(indexKey, message.seq);
        const onMessage = record === undefined && hasClaimFields(message, this.meta.lastNowMs);
        if (onMessage) onMessages.add(key, message);
        const imaged = onMessage ? message : claims.imaged(indexKey, message);
        // A lapsed claim's extension outlives its record, which goes below: into the message.
        if (record === undefined && imaged.expiresMs !== message.expiresMs) extended.push({ key, message: imaged });
        this.indexMessage(indexKey, imaged, record?.graceSeconds);
      }
    }
    for (const { key, claim, messages } of onMessages.records()) {
      this.store.putClaim(key, claim);
      for (const message of messages) this.store.updateMessage(key, withoutClaimFields(message));
    }
    for (const { key, message } of extended) this.store.updateMessage(key, message);
    for (const { project, queue, claim } of claims.lapsed) this.store.removeClaim({ shardId: this.shardId, project, queue }, claim.id);
    if (onMessages.size > 0 || claims.lapsed.length > 0) this.wrote();
  }

  private wrote(): void {
    this.writeCount++;
    this.hasUncommittedWrites = true;
  }

  /** Indexes a message as the claims see it (StoredClaims.imaged), its claim with the grace its record keeps. */
  private indexMessage(indexKey: string, message: StoredMessage, graceSeconds: number | undefined): void {
    const entry = { seq: message.seq, expiresMs: message.expiresMs, visibleMs: message.visibleMs };
    if (message.claimId !== null && message.claimExpiresMs > this.meta.lastNowMs) {
      const stamped = { id: message.claimId, expiresMs: message.claimExpiresMs, updatedMs: message.claimUpdatedMs, ttlSeconds: message.claimTtlSeconds };
      const claim = graceSeconds === undefined ? stamped : { ...stamped, graceSeconds };
      this.index.restoreClaimed(indexKey, claim, entry);
    } else {
      this.index.addFree(indexKey, entry);
    }
  }
}

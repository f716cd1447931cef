/**
 * A shard's state as one self-checking image: what a Raft snapshot of the shard carries.
 *
 * Content: the shard meta (applied index, state-machine clock, outbox/inbox counters),
 * every queue record (metadata, next seq, subscriptions with their cursors, the mark of
 * a deleted queue kept for its subscriptions; an older image without it reads as not
 * deleted), every
 * message record with its body (each with its active claim on it, the form images had
 * before stores kept claims as records of their own: stored-claims.ts), and the outbox
 * (dead-letter entries still to deliver), and the dedup window of recently applied
 * commands (`applied`; absent in images made before it existed: an empty window). That
 * is everything a QueueStore keeps for a
 * shard (claim records included, on the messages); the claim index is derived and
 * rebuilt from it.
 *
 * Encoding: msgpackr, framed as u32 CRC-32 (little endian, over the rest) + u8 version +
 * payload, so a damaged or mis-assembled image is refused instead of installed.
 *
 * Consistency: `captureShardImage` reads range reads of the store, which see committed
 * state only; the caller must have awaited `store.committed()` with no write to the shard
 * since (QueueFsm checks this). Capture and install are synchronous: on LMDB every read
 * of one capture runs in the same event-loop turn, so no commit of this shard can land
 * in between, and every write of one install lands in one transaction (atomic).
 *
 * Memory: the image is proportional to the shard's live state (not to its log), built
 * whole in memory, once as records and once encoded. Streaming it in chunks would need
 * the StateMachine/RaftLogStore interfaces to carry chunks, which they do not yet.
 */
import { crc32 } from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { ShardId } from '../../common/ids.js';
import type { AppliedRecord, OutboxRecord, QueueKey, QueueStore, ShardMeta, StoredMessage, StoredQueue } from '../../log/queue-store.js';
import { batchRecordOf, commandsOf } from './applied-records.js';
import { queueKeyOf } from './claim-index.js';
import { ClaimsOnMessages, hasClaimFields, StoredClaims, withoutClaimFields } from './stored-claims.js';

export interface ImageQueue {
  readonly project: string;
  readonly name: string;
  readonly queue: StoredQueue;
  /** In seq order; `bodies[i]` belongs to `messages[i]`. */
  readonly messages: readonly StoredMessage[];
  readonly bodies: readonly Uint8Array[];
}

export interface ShardImage {
  readonly shardId: ShardId;
  readonly meta: ShardMeta;
  readonly queues: readonly ImageQueue[];
  readonly outbox: readonly OutboxRecord[];
  /** In index order; optional so older images still decode. */
  readonly applied?: readonly AppliedRecord[];
}

const imageVersion = 1;
const headerBytes = 5;

/**
 * Reads one shard's committed state (see the file header for the caller's duty), with
 * its dedup window's commands as `applied` (one record each: AppliedWindow.commandRecords).
 */
export function captureShardImage(store: QueueStore, shardId: ShardId, meta: ShardMeta, applied: readonly AppliedRecord[]): ShardImage {
  const queues: ImageQueue[] = [];
  const claims = new StoredClaims(store.claims(shardId), meta.lastNowMs);
  for (const { project, name, queue } of store.allQueues(shardId)) {
    const key: QueueKey = { shardId, project, queue: name };
    const indexKey = queueKeyOf(project, name);
    const messages = [...store.messages(key, 0)].map((message) => claims.imaged(indexKey, message));
    const bodies = messages.map((message) => {
      const body = store.getBody(key, message.seq);
      assert(body !== undefined, () => `shard ${shardId}: message ${message.id} has no body`);
      return body;
    });
    queues.push({ project, name, queue, messages, bodies });
  }
  // Canonical order (stores may list queues differently), so equal states give equal images.
  queues.sort((a, b) => Buffer.compare(Buffer.from(`${a.project}\u0000${a.name}`), Buffer.from(`${b.project}\u0000${b.name}`)));
  const outbox = [...store.outbox(shardId)].map((record) => ({ seq: record.seq, data: record.data }));
  return { shardId, meta, queues, outbox, applied };
}

/**
 * Replaces everything the store holds for the image's shard with the image: removes the
 * shard's committed records, then writes the image's (one transaction on LMDB).
 */
export function installShardImage(store: QueueStore, image: ShardImage): void {
  const { shardId } = image;
  for (const { project, name } of [...store.allQueues(shardId)]) {
    const key: QueueKey = { shardId, project, queue: name };
    store.removeMessages(key, [...store.messages(key, 0)]);
    store.removeQueue(key);
  }
  for (const { project, queue, claim } of [...store.claims(shardId)]) store.removeClaim({ shardId, project, queue }, claim.id);
  for (const { seq } of [...store.outbox(shardId)]) store.removeOutbox(shardId, seq);
  for (const { index } of [...store.applied(shardId)]) store.removeApplied(shardId, index);
  const claims = new ClaimsOnMessages();
  for (const { project, name, queue, messages, bodies } of image.queues) {
    const key: QueueKey = { shardId, project, queue: name };
    store.putQueue(key, queue);
    messages.forEach((message, i) => {
      const body = bodies[i];
      assert(body !== undefined, () => `shard ${shardId}: image lacks the body of message ${message.id}`);
      if (hasClaimFields(message, image.meta.lastNowMs)) claims.add(key, message);
      store.insertMessage(key, withoutClaimFields(message), body);
    });
  }
  for (const { key, claim } of claims.records()) store.putClaim(key, claim);
  for (const record of image.outbox) store.putOutbox(shardId, record);
  for (const record of storedAppliedRecords(image.applied ?? [])) store.putApplied(shardId, record);
  store.putShardMeta(shardId, image.meta);
}

/**
 * An image's window records as the store keeps them, keyed by index: one record per
 * command, except that the commands of one batch entry (one index) go in one batch record.
 */
function storedAppliedRecords(records: readonly AppliedRecord[]): AppliedRecord[] {
  const stored: AppliedRecord[] = [];
  for (let at = 0; at < records.length;) {
    let end = at + 1;
    while (end < records.length && records[end]!.index === records[at]!.index) end++;
    stored.push(end === at + 1 ? records[at]! : batchRecordOf(records.slice(at, end).flatMap((record) => commandsOf(record))));
    at = end;
  }
  return stored;
}

export function encodeShardImage(image: ShardImage): Uint8Array {
  const payload = pack(image);
  const frame = Buffer.allocUnsafe(headerBytes + payload.byteLength);
  frame[4] = imageVersion;
  frame.set(payload, headerBytes);
  frame.writeUInt32LE(crc32(frame.subarray(4)) >>> 0, 0);
  return frame;
}

/** Decodes an image; throws ShardImageError when it is damaged or of another version. */
export function decodeShardImage(data: Uint8Array): ShardImage {
  if (data.byteLength < headerBytes || data[4] !== imageVersion) throw new ShardImageError('unknown shard image format');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== crc32(data.subarray(4)) >>> 0) throw new ShardImageError('shard image fails its checksum');
  const image = unpack(data.subarray(headerBytes)) as ShardImage;
  assert(typeof image.shardId === 'number' && Array.isArray(image.queues) && Array.isArray(image.outbox), 'malformed shard image');
  return image;
}

export class ShardImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardImageError';
  }
}

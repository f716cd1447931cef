/**
 * Turns stored messages into the records the api renders. Bodies stay the bytes they
 * are stored as: a msgpack reply carries them as they are (api/encoded-json.ts). A message's claim comes from
 * the claim index, not from its stored record (ClaimIndex.activeHolder): callers pass the
 * id of the claim active at the reader's `nowMs`, or null (semantics §5.5, recommended).
 */
import type { MessageRecord } from '../records.js';
import type { QueueKey, QueueStore, StoredMessage } from '../../log/queue-store.js';
import { assert } from '../../common/assert.js';

export function toMessageRecord(message: StoredMessage, body: Uint8Array, activeClaimId: string | null): MessageRecord {
  const record: MessageRecord = {
    id: message.id,
    seq: message.seq,
    body,
    ttlSeconds: message.ttlSeconds,
    createdMs: message.createdMs,
    claimId: activeClaimId,
    claimCount: message.claimCount,
  };
  return message.checksum === null ? record : { ...record, checksum: message.checksum };
}

/** Reads the body of a stored message and builds its record. */
export function readMessageRecord(store: QueueStore, key: QueueKey, message: StoredMessage, activeClaimId: string | null): MessageRecord {
  const body = store.getBody(key, message.seq);
  assert(body !== undefined, () => `message ${message.id} (seq ${message.seq}) has no body`);
  return toMessageRecord(message, body, activeClaimId);
}

/**
 * Client-IDs compare by UUID value: dashed, undashed and upper-case spellings of one
 * UUID are the same client (semantics §3.4). Other strings compare as given.
 */
export function normaliseClientId(clientId: string): string {
  const compact = clientId.replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(compact) ? compact : clientId;
}

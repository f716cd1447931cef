/**
 * Turns stored messages into the records the api renders. Bodies stay the bytes they
 * are stored as: a msgpack reply carries them as they are (api/encoded-json.ts). A message's claim comes from
 * the claim index, not from its stored record (ClaimIndex.activeHolder): callers pass the
 * id of the claim active at the reader's `nowMs`, or null (semantics §5.5, recommended).
 */
import type { MessageRecord } from '../records.js';
import type { QueueKey, QueueStore, StoredMessage } from '../../log/queue-store.js';
import { assert } from '../../common/assert.js';
import { decodeBody } from './body-codec.js';

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

/**
 * `value` (a command result or a query answer) with its messages' bodies decoded, for a
 * forwarding hop: nodes of earlier versions send and expect decoded bodies (their api
 * renders a body as it is given). Message records sit where results and answers hold
 * them: in an array of them, or under `messages`, or `claim.messages`.
 */
export function withDecodedBodies<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withDecodedBody(item)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const holder = value as { messages?: unknown; claim?: unknown };
  if (Array.isArray(holder.messages)) return { ...value, messages: withDecodedBodies(holder.messages) };
  if (typeof holder.claim === 'object' && holder.claim !== null) return { ...value, claim: withDecodedBodies(holder.claim) };
  return value;
}

function withDecodedBody(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const body = (item as { body?: unknown }).body;
  return body instanceof Uint8Array ? { ...item, body: decodeBody(body) } : item;
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
  // Every post normalises its Client-ID, and a client posts many times in a row.
  if (clientId === lastClientId.given) return lastClientId.normalised;
  const compact = clientId.replace(/-/g, '').toLowerCase();
  const normalised = /^[0-9a-f]{32}$/.test(compact) ? compact : clientId;
  lastClientId = { given: clientId, normalised };
  return normalised;
}

let lastClientId = { given: '', normalised: '' };

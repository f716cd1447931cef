/**
 * Dead-letter configuration (api §4 reserved metadata, semantics §5.7) and the outbox
 * entry that carries a dead-lettered message to its DLQ, which may live on another
 * shard. The entry is written by the claim command that removes the message, so the
 * move survives a crash: the broker delivers pending entries (idempotently) until the
 * source shard acknowledges them.
 */
import { Packr } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { MovedMessage } from './commands.js';

export interface DeadLetterConfig {
  readonly maxClaimCount: number;
  readonly queue: string;
  /** Lifetime given to moved messages; undefined keeps their remaining life. */
  readonly ttlSeconds: number | undefined;
}

/** Both `_max_claim_count` and `_dead_letter_queue` must be set, else claim counts stay 0. */
export function deadLetterConfig(metadata: Readonly<Record<string, unknown>>): DeadLetterConfig | undefined {
  const maxClaimCount = metadata['_max_claim_count'];
  const queue = metadata['_dead_letter_queue'];
  if (typeof maxClaimCount !== 'number' || !Number.isFinite(maxClaimCount)) return undefined;
  if (typeof queue !== 'string' || queue === '') return undefined;
  const ttl = metadata['_dead_letter_queue_messages_ttl'];
  return { maxClaimCount, queue, ttlSeconds: typeof ttl === 'number' && ttl > 0 ? ttl : undefined };
}

export interface OutboxEntry {
  readonly project: string;
  readonly queue: string;
  readonly message: MovedMessage;
}

const packr = new Packr({ useRecords: true, moreTypes: false });

export function encodeOutboxEntry(entry: OutboxEntry): Uint8Array {
  return packr.pack(entry);
}

export function decodeOutboxEntry(data: Uint8Array): OutboxEntry {
  const entry = packr.unpack(data) as OutboxEntry;
  assert(typeof entry === 'object' && entry !== null && typeof entry.queue === 'string', 'malformed outbox entry');
  return entry;
}

/**
 * Turns broker records into the v2 representations (zaqar-api-v2.md §6, §5.6, §8.2).
 * Records carry timestamps; ages are computed here from the caller's clock, whole
 * seconds, never negative (a record stamped by a slightly faster peer reads as age 0).
 * Hrefs are relative paths; a message href carries `?claim_id=` only while its claim is
 * active and then as the last parameter, where python-zaqarclient looks for it.
 */
import type { ClaimRecord, MessageRecord, QueueStatsRecord } from '../cluster/records.js';
import { EncodedJson } from './encoded-json.js';
import type { JsonValue } from './json-body.js';

export function queuePath(queue: string): string {
  return `/v2/queues/${queue}`;
}

export function messagePath(queue: string, id: string): string {
  return `/v2/queues/${queue}/messages/${id}`;
}

export function claimPath(queue: string, id: string): string {
  return `/v2/queues/${queue}/claims/${id}`;
}

export function ageSeconds(sinceMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - sinceMs) / 1000));
}

/** A stored body as its bytes (an EncodedJson), a forwarded one as the value it was decoded to. */
function renderedBody(message: MessageRecord): JsonValue {
  return message.body instanceof Uint8Array ? new EncodedJson(message.body) : message.body as JsonValue;
}

export function renderMessage(queue: string, message: MessageRecord, nowMs: number): JsonValue {
  const href = messagePath(queue, message.id) + (message.claimId === null ? '' : `?claim_id=${message.claimId}`);
  const rendered: { [key: string]: JsonValue } = {
    id: message.id,
    href,
    ttl: message.ttlSeconds,
    age: ageSeconds(message.createdMs, nowMs),
    body: renderedBody(message),
  };
  if (message.checksum !== undefined) rendered['checksum'] = message.checksum;
  return rendered;
}

/** The pop representation: no href, no checksum, with claim_count (§6). */
export function renderPopped(message: MessageRecord, nowMs: number): JsonValue {
  return {
    id: message.id,
    age: ageSeconds(message.createdMs, nowMs),
    ttl: message.ttlSeconds,
    claim_count: message.claimCount,
    claim_id: null,
    body: renderedBody(message),
  };
}

export function renderClaim(queue: string, claim: ClaimRecord, nowMs: number): JsonValue {
  return {
    age: ageSeconds(claim.updatedMs, nowMs),
    ttl: claim.ttlSeconds,
    href: claimPath(queue, claim.id),
    messages: claim.messages.map((m) => renderMessage(queue, m, nowMs)),
  };
}

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds). */
export function isoSeconds(epochMs: number): string {
  return `${new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

export function renderStats(queue: string, stats: QueueStatsRecord, nowMs: number): JsonValue {
  const messages: { [key: string]: JsonValue } = { claimed: stats.claimed, free: stats.free, total: stats.total };
  const edge = (m: { id: string; createdMs: number }): JsonValue => ({
    href: messagePath(queue, m.id),
    age: ageSeconds(m.createdMs, nowMs),
    created: isoSeconds(m.createdMs),
  });
  if (stats.total > 0 && stats.oldest !== undefined) messages['oldest'] = edge(stats.oldest);
  if (stats.total > 0 && stats.newest !== undefined) messages['newest'] = edge(stats.newest);
  return { messages };
}

/** A `next` link: the request path plus the carried paging parameters (§1.10). */
export function nextLinks(path: string, params: ReadonlyArray<readonly [string, string | number | boolean]>): JsonValue {
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
  return [{ rel: 'next', href: query === '' ? path : `${path}?${query}` }];
}

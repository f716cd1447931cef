/**
 * Reading Zaqar's wire documents into the client's normalised types. HTTP carries
 * `href`s (`/v2/queues/q/messages/<id>?claim_id=<cid>`) where WebSocket carries `id` and
 * `claim_id`; these readers accept either, so both transports share them. A document
 * that lacks a required field is a protocol error, reported as a ZaqarError with the
 * status that carried it.
 */
import type { ClaimInfo, Json, JsonObject, Message, MessageStat, QueueStats, QueueSummary, Subscription } from './client-types.js';
import { ZaqarError } from './zaqar-error.js';

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as JsonObject;
  throw new ZaqarError(`malformed reply: ${what} is not an object`, { status: 0, body: value });
}

export function asArray(value: Json | undefined, what: string): readonly Json[] {
  if (Array.isArray(value)) return value as readonly Json[];
  throw new ZaqarError(`malformed reply: ${what} is not a list`, { status: 0, body: value });
}

function numberField(doc: JsonObject, key: string): number {
  const value = doc[key];
  return typeof value === 'number' ? value : 0;
}

/** The last path segment of an href, without its query. */
export function idFromHref(href: string): string {
  const path = href.split('?')[0] ?? '';
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

function claimIdFromHref(href: string): string | null {
  const query = href.split('?')[1];
  if (query === undefined) return null;
  return new URLSearchParams(query).get('claim_id');
}

export function readMessage(value: Json | undefined): Message {
  const doc = asObject(value, 'message');
  const href = typeof doc['href'] === 'string' ? doc['href'] : undefined;
  const id = typeof doc['id'] === 'string' ? doc['id'] : href === undefined ? undefined : idFromHref(href);
  if (id === undefined) throw new ZaqarError('malformed reply: message without id', { status: 0, body: value });
  const claimId = typeof doc['claim_id'] === 'string' ? doc['claim_id'] : href === undefined ? null : claimIdFromHref(href);
  return { id, ttl: numberField(doc, 'ttl'), age: numberField(doc, 'age'), body: doc['body'] ?? null, claimId };
}

export function readMessages(value: Json | undefined): Message[] {
  return asArray(value, 'messages').map(readMessage);
}

function readStat(value: Json | undefined): MessageStat | undefined {
  if (value === undefined) return undefined;
  const doc = asObject(value, 'message stat');
  const href = typeof doc['href'] === 'string' ? doc['href'] : '';
  const id = typeof doc['id'] === 'string' ? doc['id'] : idFromHref(href);
  return { id, age: numberField(doc, 'age'), created: typeof doc['created'] === 'string' ? doc['created'] : '' };
}

export function readStats(value: Json | undefined): QueueStats {
  const messages = asObject(asObject(value, 'stats')['messages'], 'stats.messages');
  const oldest = readStat(messages['oldest']);
  const newest = readStat(messages['newest']);
  return {
    claimed: numberField(messages, 'claimed'),
    free: numberField(messages, 'free'),
    total: numberField(messages, 'total'),
    ...(oldest === undefined ? {} : { oldest }),
    ...(newest === undefined ? {} : { newest }),
  };
}

export function readQueueSummary(value: Json): QueueSummary {
  const doc = asObject(value, 'queue');
  const name = typeof doc['name'] === 'string' ? doc['name'] : '';
  const metadata = doc['metadata'];
  return metadata === undefined ? { name } : { name, metadata: asObject(metadata, 'queue metadata') };
}

export function readSubscription(value: Json | undefined): Subscription {
  const doc = asObject(value, 'subscription');
  return {
    id: typeof doc['id'] === 'string' ? doc['id'] : '',
    source: typeof doc['source'] === 'string' ? doc['source'] : '',
    subscriber: typeof doc['subscriber'] === 'string' ? doc['subscriber'] : '',
    ttl: numberField(doc, 'ttl'),
    age: numberField(doc, 'age'),
    options: doc['options'] === undefined ? {} : asObject(doc['options'], 'subscription options'),
    confirmed: doc['confirmed'] === true,
  };
}

/** The marker of an HTTP `links` array's `next` entry, if any. */
export function markerFromLinks(links: Json | undefined): string | undefined {
  if (!Array.isArray(links)) return undefined;
  for (const link of links as readonly Json[]) {
    if (typeof link !== 'object' || link === null || Array.isArray(link)) continue;
    const doc = link as JsonObject;
    if (doc['rel'] !== 'next' || typeof doc['href'] !== 'string') continue;
    const query = doc['href'].split('?')[1];
    const marker = query === undefined ? null : new URLSearchParams(query).get('marker');
    return marker ?? undefined;
  }
  return undefined;
}

/** Wire form of new messages: only the keys Zaqar reads. */
export function newMessagesToWire(messages: readonly { body: Json; ttl?: number; delay?: number }[]): Json[] {
  return messages.map((m) => {
    const wire: Record<string, Json> = { body: m.body };
    if (m.ttl !== undefined) wire['ttl'] = m.ttl;
    if (m.delay !== undefined) wire['delay'] = m.delay;
    return wire;
  });
}

/** A claim document (`{age, ttl, messages}`) as a ClaimInfo; its messages carry the claim id. */
export function readClaimInfo(value: Json | undefined, claimId: string): ClaimInfo {
  const doc = asObject(value, 'claim');
  return {
    id: claimId,
    ttl: numberField(doc, 'ttl'),
    age: numberField(doc, 'age'),
    messages: readMessages(doc['messages']).map((m) => ({ ...m, claimId })),
  };
}

/**
 * Message operations (zaqar-api-v2.md §7): post (lazy queue creation, size limits,
 * ttl/delay defaults from queue metadata and config), list (echo, include_claimed,
 * include_delayed, marker paging), get by id(s), delete (single with the claim matrix,
 * bulk by ids, pop). Validation happens here; the broker only executes valid requests.
 * Markers are the per-queue sequence numbers, rendered as decimal strings.
 */
import { brokerCall } from './broker-call.js';
import { EncodedJson } from './encoded-json.js';
import { BrokerError, invalidBody, invalidRequest } from './errors.js';
import type { JsonValue } from './json-body.js';
import { reply, type ApiCall, type ApiReply, type Operation } from './operation.js';
import { isTruthy } from './queue-metadata.js';
import { queueRef } from './queues.js';
import { deserializeBody } from './request-body.js';
import { nextLinks, renderMessage, renderPopped } from './render.js';
import { contentLength, isIntValue, isPlainObject, queryBool, queryInt, queryList, queryString } from './validation.js';
import { isWellFormedId } from '../common/ids.js';
import type { NewMessage, QueueMetadata } from '../cluster/records.js';

const messageTtlMinSeconds = 60;
const defaultMessageLimit = 10;

function messageOperation(policy: string, run: Operation['run']): Operation {
  return { policy, hasQueue: true, isScoped: true, run };
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The metadata keys a post is validated against. A post carries their values (null when
 * absent) and the shard applies it only while the queue still holds them.
 */
const postMetadataKeys = ['_max_messages_post_size', '_default_message_ttl', '_default_message_delay'] as const;
const postFailure = 'Messages could not be enqueued.';

/**
 * `POST .../messages`: lazy queue creation, size caps, ttl/delay defaults; 201 (§7.1).
 * One cluster operation in the common case: the request is validated against metadata
 * read without a read barrier and the post carries the values it used, so a metadata
 * change the read missed makes the shard apply nothing. Then, and whenever that
 * validation rejects the request, the outcome is decided as the reference does: against
 * metadata read with the barrier, posted unconditionally.
 */
export const postMessages = messageOperation('messages:create', async (call) => {
  const { broker } = call.api;
  const ref = queueRef(call);
  const clientId = call.caller.clientId;
  const peeked = (await brokerCall(postFailure, () => broker.peekQueueMetadata(ref))) ?? {};
  const messages = validatedOrUndefined(call, peeked);
  if (messages !== undefined) {
    const expectedMetadata: QueueMetadata = {};
    for (const key of postMetadataKeys) expectedMetadata[key] = peeked[key] ?? null;
    const posted = await brokerCall(postFailure, () => broker.postMessagesExpecting(ref, { clientId, messages, expectedMetadata }));
    if (posted !== 'metadata_changed') return postedReply(call, posted.ids);
  }
  const metadata = (await brokerCall(postFailure, () => broker.getQueueMetadata(ref))) ?? {};
  const checked = validatedMessages(call, metadata);
  const { ids } = await brokerCall(postFailure, () => broker.postMessages(ref, { clientId, messages: checked }));
  return postedReply(call, ids);
});

function postedReply(call: ApiCall, ids: readonly string[]): ApiReply {
  const path = call.request.path;
  return reply(201, { resources: ids.map((id) => `${path}/${id}`) }, { location: `${path}?ids=${ids.join(',')}` });
}

/** The request's messages as validated against `metadata`; undefined when that rejects it (to be confirmed with fresh metadata). */
function validatedOrUndefined(call: ApiCall, metadata: QueueMetadata): NewMessage[] | undefined {
  try {
    return validatedMessages(call, metadata);
  } catch (error) {
    if (error instanceof BrokerError) return undefined;
    throw error;
  }
}

/** The request's messages with their ttl and delay resolved against the queue's `metadata` and config. */
function validatedMessages(call: ApiCall, metadata: QueueMetadata): NewMessage[] {
  const { options } = call.api;
  checkPostSize(call, metadata['_max_messages_post_size']);
  const document = deserializeBody(call.request);
  const root = document.value;
  if (!isPlainObject(root) || !Object.hasOwn(root, 'messages')) {
    throw invalidRequest('No messages were found in the request body.');
  }
  const list = root['messages'];
  if (!Array.isArray(list)) throw invalidBody('Document type not supported.');
  const ttlDefault = positiveInt(metadata['_default_message_ttl']) ?? options.defaultMessageTtlSeconds;
  const delayDefault = isTruthy(metadata['_default_message_delay']) ? Number(metadata['_default_message_delay']) : undefined;
  const messages: NewMessage[] = list.map((item) => {
    if (!isPlainObject(item)) throw invalidBody('Document type not supported.');
    const ttl = intField(document, item, 'ttl', ttlDefault);
    if (!Object.hasOwn(item, 'body')) throw invalidBody('Missing "body" field.');
    const delay = delayDefault === undefined ? 0 : intField(document, item, 'delay', delayDefault);
    const body = item['body'] ?? null;
    // A body still in the bytes it arrived in (a binary WebSocket post) is stored as those bytes.
    return body instanceof EncodedJson
      ? { body, encodedBody: body.bytes, ttlSeconds: ttl, delaySeconds: delay }
      : { body, ttlSeconds: ttl, delaySeconds: delay };
  });
  if (messages.length === 0) throw invalidRequest('No messages to enqueu.');
  for (const m of messages) {
    if (!(m.ttlSeconds >= messageTtlMinSeconds && m.ttlSeconds <= options.maxMessageTtlSeconds)) {
      throw invalidRequest(`The TTL for a message may not exceed ${options.maxMessageTtlSeconds} seconds, and must be at least 60 seconds long.`);
    }
    if (!(m.delaySeconds >= 0 && m.delaySeconds <= options.maxMessageDelaySeconds)) {
      throw invalidRequest(`The Delay TTL for a message may not exceed ${options.maxMessageDelaySeconds} seconds,and must be at least 0 seconds long.`);
    }
  }
  return messages;
}

function intField(document: Parameters<typeof isIntValue>[0], item: { [key: string]: JsonValue }, field: string, fallback: number): number {
  if (!Object.hasOwn(item, field)) return fallback;
  const value = item[field];
  if (!isIntValue(document, item, field, value)) throw invalidBody(`The value of the "${field}" field must be a int.`);
  return Number(value);
}

/** Content-Length (or the transport's bodySize) against min(queue `_max_messages_post_size`, config), as the reference words it. */
function checkPostSize(call: ApiCall, queueMax: unknown): void {
  const configMax = call.api.options.maxMessagesPostSizeBytes;
  const { bodySize } = call.request;
  if (bodySize !== undefined && bodySize.atMostBytes <= Math.min(configMax, typeof queueMax === 'number' && queueMax > 0 ? queueMax : configMax)) return;
  const length = bodySize?.exactBytes() ?? contentLength(call.request.headers) ?? bodyLength(call);
  if (length === undefined) return;
  if (typeof queueMax === 'number' && queueMax > 0) {
    const effective = Math.min(queueMax, configMax);
    if (length > effective) {
      throw invalidRequest(`Message collection size is too large. The max size for current queue is ${effective}. ` +
        `It is calculated by max size = min(max_messages_post_size_config: ${configMax}, max_messages_post_size_queue: ${queueMax}).`);
    }
  }
  if (length > configMax) throw invalidRequest(`Message collection size is too large. Max size ${configMax}`);
}

function bodyLength(call: ApiCall): number | undefined {
  const body = call.request.body;
  return body !== null && 'bytes' in body ? body.bytes.length : undefined;
}

/** `GET .../messages`: a page (echo, include_claimed, include_delayed, marker) or, with `ids`, a set (§7.2, §7.3). */
export const listMessages = messageOperation('messages:get_all', async (call) => {
  const ids = queryList(call.request.query, 'ids');
  return ids === undefined ? listPage(call) : getByIds(call, ids);
});

async function listPage(call: ApiCall): ReturnType<Operation['run']> {
  const { broker, options, clock } = call.api;
  const { query, path } = call.request;
  const ref = queueRef(call);
  const marker = queryString(query, 'marker');
  const limit = queryInt(query, 'limit');
  const echo = queryBool(query, 'echo', false);
  const includeClaimed = queryBool(query, 'include_claimed', false);
  const askedDelayed = queryBool(query, 'include_delayed', false);
  if (limit !== undefined && !(limit > 0 && limit <= options.maxMessagesPerPage)) {
    throw invalidRequest(`Limit must be at least 1 and may not be greater than ${options.maxMessagesPerPage}.`);
  }
  // An unusable marker is an empty page, not an error (MongoDB reference behaviour).
  if (marker !== undefined && !/^\d+$/.test(marker)) return reply(200, { messages: [], links: [] });
  // One read: the shard applies the delay-queue rule (delayed messages are hidden only
  // on a delay queue unless asked for) and says whether they were included.
  const page = await brokerCall('Messages could not be listed.', () => broker.listMessagePage(ref, {
    clientId: call.caller.clientId,
    ...(marker === undefined ? {} : { afterSeq: Number(marker) }),
    limit: limit ?? defaultMessageLimit,
    echo,
    includeClaimed,
    includeDelayed: askedDelayed,
  }));
  const records = page.messages;
  const includeDelayed = page.includesDelayed;
  const last = records.at(-1);
  if (last === undefined) return reply(200, { messages: [], links: [] });
  const nowMs = clock.nowMs();
  const params: Array<[string, string | number | boolean]> = [];
  const given = (name: string): boolean => queryString(query, name) !== undefined;
  if (marker !== undefined) params.push(['marker', String(last.seq)]);
  if (limit !== undefined) params.push(['limit', limit]);
  if (given('echo')) params.push(['echo', echo]);
  if (given('include_claimed')) params.push(['include_claimed', includeClaimed]);
  if (given('include_delayed') || includeDelayed) params.push(['include_delayed', includeDelayed]);
  if (marker === undefined) params.push(['marker', String(last.seq)]);
  return reply(200, {
    messages: records.map((m) => renderMessage(ref.queue, m, nowMs)),
    links: nextLinks(path, params),
  });
}

function pythonList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

async function getByIds(call: ApiCall, ids: string[]): ReturnType<Operation['run']> {
  const { broker, options, clock } = call.api;
  if (!(ids.length > 0 && ids.length <= options.maxMessagesPerPage)) {
    throw invalidRequest(`Limit must be at least 1 and may not be greater than ${options.maxMessagesPerPage}.`);
  }
  const ref = queueRef(call);
  const records = await brokerCall('Message could not be retrieved.', () => broker.getMessages(ref, ids));
  if (records.length === 0) {
    throw new BrokerError('not_found',
      `No messages with IDs: ${pythonList(ids)} found in the queue ${ref.queue} for project ${ref.project}.`);
  }
  const nowMs = clock.nowMs();
  return reply(200, { messages: records.map((m) => renderMessage(ref.queue, m, nowMs)) });
}

/** `DELETE .../messages`: by `ids` (+ `claim_ids`) → 204, or `pop` → 200 with the popped messages (§7.4). */
export const deleteMessages = messageOperation('messages:delete_all', async (call) => {
  const { broker, options, clock } = call.api;
  const { query } = call.request;
  const ids = queryList(query, 'ids');
  const claimIds = options.messageDeleteWithClaimId ? queryList(query, 'claim_ids') : undefined;
  const pop = queryInt(query, 'pop');
  if (pop !== undefined && ids !== undefined) {
    throw invalidRequest('pop and id params cannot be present together in the delete request.');
  }
  if (pop === undefined && ids === undefined) {
    throw invalidRequest('The request should have either "ids" or "pop" parameter in the request, to be able to delete.');
  }
  if (options.messageDeleteWithClaimId && ((ids !== undefined) !== (claimIds !== undefined))) {
    throw invalidRequest('The request should have both "ids" and "claim_ids" parameter in the request when ' +
      'message_delete_with_claim_id is True.');
  }
  if (pop !== undefined && !(pop > 0 && pop <= options.maxMessagesPerClaimOrPop)) {
    throw invalidRequest(`Pop value must be at least 1 and may not be greater than ${options.maxMessagesPerClaimOrPop}.`);
  }
  if (ids !== undefined && !(ids.length > 0 && ids.length <= options.maxMessagesPerPage)) {
    throw invalidRequest(`ids parameter should have at least 1 and not greater than ${options.maxMessagesPerPage} values.`);
  }
  const ref = queueRef(call);
  if (ids !== undefined) {
    const isDeleted = await brokerCall('Messages could not be deleted.',
      () => broker.deleteMessages(ref, { ids, ...(claimIds === undefined ? {} : { claimIds }) }));
    if (!isDeleted) throw new BrokerError('service_unavailable', 'Messages could not be deleted. Please try again in a few seconds.');
    return reply(204);
  }
  const popped = await brokerCall('Messages could not be popped.', () => broker.popMessages(ref, pop ?? 1));
  const nowMs = clock.nowMs();
  return reply(200, { messages: popped.map((m) => renderPopped(m, nowMs)) });
});

/** `GET .../messages/{id}`: one message in any state; 404 when unknown (§7.5). */
export const getMessage = messageOperation('messages:get', async (call) => {
  const ref = queueRef(call);
  const id = call.request.params['message_id'] ?? '';
  const [record] = await brokerCall('Message could not be retrieved.', () => call.api.broker.getMessages(ref, [id]));
  if (record === undefined || record.id !== id) {
    throw new BrokerError('not_found', `Message ${id} does not exist in queue ${ref.queue} for project ${ref.project}`);
  }
  return reply(200, renderMessage(ref.queue, record, call.api.clock.nowMs()));
});

/** `DELETE .../messages/{id}[?claim_id=]`: the 204/400/403 claim matrix (§7.6). */
export const deleteMessage = messageOperation('messages:delete', async (call) => {
  const ref = queueRef(call);
  const id = call.request.params['message_id'] ?? '';
  const claimId = queryString(call.request.query, 'claim_id');
  if (claimId !== undefined && !isWellFormedId(claimId)) {
    throw new BrokerError('claim_id_malformed', 'The specified claim does not exist or has expired.');
  }
  const outcome = await brokerCall('Message could not be deleted.',
    () => call.api.broker.deleteMessage(ref, { id, ...(claimId === undefined ? {} : { claimId }) }));
  if (outcome === 'claimed') {
    throw new BrokerError('message_claimed', 'This message is claimed; it cannot be deleted without a valid claim ID.');
  }
  if (outcome === 'not_claimed') {
    throw new BrokerError('message_not_claimed', 'A claim was specified, but the message is not currently claimed.');
  }
  return reply(204);
});

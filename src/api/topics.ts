/**
 * Topics (zaqar-api-v2.md §10): a second, queue-like namespace with the queue rules, no
 * claims. A topic is stored as a queue of a per-project topic namespace — the caller's
 * project plus `topicNamespaceSuffix`, which no HTTP header can carry — so topics never
 * appear among queues and every queue rule (names, metadata, messages, subscriptions,
 * notification delivery) applies to them unchanged. Each topic operation runs the queue
 * operation on the rewritten call and reshapes its reply where §10 says a topic reply
 * differs (listing key, displayed reserved keys, stats).
 *
 * Unlike the reference (500 on topic messages and subscriptions), those routes work as
 * their queue equivalents.
 */
import { isJsonObject, type JsonValue } from './json-body.js';
import type { ApiCall, ApiReply, Operation } from './operation.js';

/** Appended to the project to form its topic namespace; a newline cannot occur in a header. */
export const topicNamespaceSuffix = '\n#topics';

/** Reserved keys a topic's display rule does not add (only the three message ones remain). */
const queueOnlyReserved: Readonly<Record<string, JsonValue>> = {
  _dead_letter_queue: null,
  _dead_letter_queue_messages_ttl: null,
  _max_claim_count: null,
  _enable_encrypt_messages: false,
};

function topicCall(call: ApiCall): ApiCall {
  return { ...call, caller: { ...call.caller, project: call.caller.project + topicNamespaceSuffix } };
}

/** The queue operation `operation` run in the topic namespace under policy `policy`. */
export function onTopic(policy: string, operation: Operation, reshape?: (reply: ApiReply) => ApiReply): Operation {
  return {
    policy,
    hasQueue: operation.hasQueue,
    isScoped: true,
    async run(call) {
      const result = await operation.run(topicCall(call));
      return reshape === undefined ? result : reshape(result);
    },
  };
}

function objectOf(body: JsonValue | undefined): { [key: string]: JsonValue } | undefined {
  return isJsonObject(body) ? body : undefined;
}

/** `{queues, links, count?}` → `{topics, links}`, detailed metadata shown by the topic rule. */
export function topicListing(result: ApiReply): ApiReply {
  const body = objectOf(result.body);
  if (body === undefined) return result;
  const queues = body['queues'];
  const topics = Array.isArray(queues) ? queues.map((item) => {
    const entry = objectOf(item);
    const metadata = objectOf(entry?.['metadata']);
    return entry === undefined || metadata === undefined ? item : { ...entry, metadata: topicDisplay(metadata) };
  }) : [];
  return { ...result, body: { topics, links: body['links'] ?? [] } };
}

/** Drops the reserved keys a topic does not display, unless set to something else. */
function topicDisplay(metadata: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const shown = { ...metadata };
  for (const [key, value] of Object.entries(queueOnlyReserved)) {
    if (shown[key] === value) delete shown[key];
  }
  return shown;
}

export function topicMetadata(result: ApiReply): ApiReply {
  const body = objectOf(result.body);
  return body === undefined ? result : { ...result, body: topicDisplay(body) };
}

/** Stats of an existing topic carry `total` (and oldest/newest, topic hrefs) but no claimed/free counts. */
export function topicStats(result: ApiReply): ApiReply {
  const messages = objectOf(objectOf(result.body)?.['messages']);
  if (messages === undefined || messages['total'] === 0) return result;
  const shown: { [key: string]: JsonValue } = { total: messages['total'] ?? 0 };
  for (const edge of ['oldest', 'newest']) {
    const value = objectOf(messages[edge]);
    if (value === undefined) continue;
    const href = value['href'];
    shown[edge] = { ...value, href: typeof href === 'string' ? href.replace(/^\/v2\/queues\//, '/v2/topics/') : href ?? null };
  }
  return { ...result, body: { messages: shown } };
}

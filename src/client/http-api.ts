/**
 * The Zaqar operations over HTTP (zaqar-api-v2.md §5–§9) with the global `fetch`.
 * Replies are normalised to the client's types: ids come from `href`s and `Location`,
 * markers from `links`. Requests are independent, so pipelining is simply concurrency
 * (undici keeps connections alive and reuses them).
 */
import type {
  Claim, ClaimInfo, ClaimOptions, Json, JsonObject, ListMessagesOptions, ListQueuesOptions, Message, NewMessage,
  NewSubscription, Page, QueueStats, QueueSummary, Subscription, ZaqarApi,
} from './client-types.js';
import type { Delays } from '../common/timers.js';
import { errorFromReply, ZaqarConnectionError, ZaqarTimeoutError } from './zaqar-error.js';
import {
  asArray, asObject, idFromHref, markerFromLinks, newMessagesToWire, readClaimInfo, readMessage, readMessages,
  readQueueSummary, readStats, readSubscription,
} from './wire-shapes.js';

interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json | undefined;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface HttpApiOptions {
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestTimeoutMs: number;
  readonly delays: Delays;
}

const q = encodeURIComponent;

export class HttpZaqarApi implements ZaqarApi {
  private readonly baseUrl: string;

  constructor(private readonly options: HttpApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** One HTTP exchange; throws ZaqarError unless the status is in `okStatuses`. */
  async send(method: string, path: string, init: { query?: Query; body?: Json; okStatuses: readonly number[] }):
    Promise<HttpReply> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: 'application/json', ...this.options.headers };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const controller = new AbortController();
    let isTimedOut = false;
    const cancel = this.options.delays.after(this.options.requestTimeoutMs, () => {
      isTimedOut = true;
      controller.abort();
    });
    try {
      const response = await fetch(url, {
        method, headers, signal: controller.signal,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      const body = text === '' ? undefined : parseJson(text);
      if (!init.okStatuses.includes(response.status)) throw errorFromReply(`${method} ${path}`, { status: response.status, body });
      return { status: response.status, headers: response.headers, body };
    } catch (error) {
      if (isTimedOut) throw new ZaqarTimeoutError(`${method} ${path}: no answer within ${this.options.requestTimeoutMs} ms`);
      if (error instanceof TypeError) throw new ZaqarConnectionError(`${method} ${path}: ${error.message}`, { cause: error });
      throw error;
    } finally {
      cancel();
    }
  }

  async createQueue(name: string, metadata?: JsonObject): Promise<{ readonly created: boolean }> {
    const reply = await this.send('PUT', `/v2/queues/${q(name)}`, { body: metadata ?? {}, okStatuses: [201, 204] });
    return { created: reply.status === 201 };
  }

  async deleteQueue(name: string): Promise<void> {
    await this.send('DELETE', `/v2/queues/${q(name)}`, { okStatuses: [204] });
  }

  async getQueueMetadata(name: string): Promise<JsonObject> {
    return asObject((await this.send('GET', `/v2/queues/${q(name)}`, { okStatuses: [200] })).body, 'queue metadata');
  }

  async listQueues(options: ListQueuesOptions = {}): Promise<Page<QueueSummary>> {
    const query = { marker: options.marker, limit: options.limit, detailed: options.detailed };
    const doc = asObject((await this.send('GET', '/v2/queues', { query, okStatuses: [200] })).body, 'queue list');
    const items = asArray(doc['queues'] ?? [], 'queues').map(readQueueSummary);
    return { items, nextMarker: items.length === 0 ? undefined : markerFromLinks(doc['links']) };
  }

  async queueStats(name: string): Promise<QueueStats> {
    return readStats((await this.send('GET', `/v2/queues/${q(name)}/stats`, { okStatuses: [200] })).body);
  }

  async purgeQueue(name: string, resourceTypes?: readonly ('messages' | 'subscriptions')[]): Promise<void> {
    const body = resourceTypes === undefined ? undefined : { resource_types: [...resourceTypes] };
    await this.send('POST', `/v2/queues/${q(name)}/purge`, { body, okStatuses: [204] });
  }

  async postMessages(queue: string, messages: readonly NewMessage[]): Promise<readonly string[]> {
    const reply = await this.send('POST', `/v2/queues/${q(queue)}/messages`,
      { body: { messages: newMessagesToWire(messages) }, okStatuses: [201] });
    return asArray(asObject(reply.body, 'post result')['resources'], 'resources').map((href) => idFromHref(String(href)));
  }

  async listMessages(queue: string, options: ListMessagesOptions = {}): Promise<Page<Message>> {
    const query = {
      marker: options.marker, limit: options.limit, echo: options.echo, include_claimed: options.includeClaimed,
    };
    const reply = await this.send('GET', `/v2/queues/${q(queue)}/messages`, { query, okStatuses: [200, 204] });
    if (reply.body === undefined) return { items: [], nextMarker: undefined };
    const doc = asObject(reply.body, 'message list');
    const items = readMessages(doc['messages'] ?? []);
    return { items, nextMarker: items.length === 0 ? undefined : markerFromLinks(doc['links']) };
  }

  async getMessage(queue: string, id: string): Promise<Message> {
    return readMessage((await this.send('GET', `/v2/queues/${q(queue)}/messages/${q(id)}`, { okStatuses: [200] })).body);
  }

  async getMessages(queue: string, ids: readonly string[]): Promise<readonly Message[]> {
    const reply = await this.send('GET', `/v2/queues/${q(queue)}/messages`,
      { query: { ids: ids.join(',') }, okStatuses: [200, 404] });
    if (reply.status === 404) return [];
    return readMessages(asObject(reply.body, 'messages')['messages']);
  }

  async deleteMessage(queue: string, id: string, options: { readonly claimId?: string } = {}): Promise<void> {
    await this.send('DELETE', `/v2/queues/${q(queue)}/messages/${q(id)}`,
      { query: { claim_id: options.claimId }, okStatuses: [204] });
  }

  async deleteMessages(queue: string, ids: readonly string[]): Promise<void> {
    await this.send('DELETE', `/v2/queues/${q(queue)}/messages`, { query: { ids: ids.join(',') }, okStatuses: [204] });
  }

  async popMessages(queue: string, count: number): Promise<readonly Message[]> {
    const reply = await this.send('DELETE', `/v2/queues/${q(queue)}/messages`, { query: { pop: count }, okStatuses: [200] });
    return readMessages(asObject(reply.body, 'popped')['messages']);
  }

  async claimMessages(queue: string, options: ClaimOptions = {}): Promise<Claim | undefined> {
    const claimBody: Record<string, number> = {};
    if (options.ttl !== undefined) claimBody['ttl'] = options.ttl;
    if (options.grace !== undefined) claimBody['grace'] = options.grace;
    const reply = await this.send('POST', `/v2/queues/${q(queue)}/claims`,
      { query: { limit: options.limit }, body: claimBody, okStatuses: [201, 204] });
    if (reply.status === 204) return undefined;
    const location = reply.headers.get('location');
    const messages = readMessages(asObject(reply.body, 'claim')['messages']);
    const id = location !== null ? idFromHref(location) : messages[0]?.claimId;
    if (id === undefined || id === null) return undefined;
    return { id, messages: messages.map((m) => ({ ...m, claimId: id })) };
  }

  async getClaim(queue: string, claimId: string): Promise<ClaimInfo> {
    const reply = await this.send('GET', `/v2/queues/${q(queue)}/claims/${q(claimId)}`, { okStatuses: [200] });
    return readClaimInfo(reply.body, claimId);
  }

  async renewClaim(queue: string, claimId: string, options: { ttl?: number; grace?: number } = {}): Promise<void> {
    const renewBody: Record<string, number> = {};
    if (options.ttl !== undefined) renewBody['ttl'] = options.ttl;
    if (options.grace !== undefined) renewBody['grace'] = options.grace;
    await this.send('PATCH', `/v2/queues/${q(queue)}/claims/${q(claimId)}`, { body: renewBody, okStatuses: [204] });
  }

  async releaseClaim(queue: string, claimId: string): Promise<void> {
    await this.send('DELETE', `/v2/queues/${q(queue)}/claims/${q(claimId)}`, { okStatuses: [204] });
  }

  async createSubscription(queue: string, subscription: NewSubscription): Promise<string> {
    const subscriptionBody: Record<string, Json> = {};
    if (subscription.subscriber !== undefined) subscriptionBody['subscriber'] = subscription.subscriber;
    if (subscription.ttl !== undefined) subscriptionBody['ttl'] = subscription.ttl;
    if (subscription.options !== undefined) subscriptionBody['options'] = subscription.options;
    const reply = await this.send('POST', `/v2/queues/${q(queue)}/subscriptions`,
      { body: subscriptionBody, okStatuses: [201] });
    return String(asObject(reply.body, 'subscription')['subscription_id']);
  }

  async listSubscriptions(queue: string, options: { marker?: string; limit?: number } = {}): Promise<Page<Subscription>> {
    const reply = await this.send('GET', `/v2/queues/${q(queue)}/subscriptions`,
      { query: { marker: options.marker, limit: options.limit }, okStatuses: [200] });
    const doc = asObject(reply.body, 'subscriptions');
    const items = asArray(doc['subscriptions'] ?? [], 'subscriptions').map(readSubscription);
    return { items, nextMarker: items.length === 0 ? undefined : markerFromLinks(doc['links']) };
  }

  async getSubscription(queue: string, id: string): Promise<Subscription> {
    return readSubscription((await this.send('GET', `/v2/queues/${q(queue)}/subscriptions/${q(id)}`,
      { okStatuses: [200] })).body);
  }

  async deleteSubscription(queue: string, id: string): Promise<void> {
    await this.send('DELETE', `/v2/queues/${q(queue)}/subscriptions/${q(id)}`, { okStatuses: [204] });
  }

  async ping(): Promise<boolean> {
    const reply = await this.send('GET', '/v2/ping', { okStatuses: [204, 503] });
    return reply.status === 204;
  }

  async health(): Promise<JsonObject> {
    return asObject((await this.send('GET', '/v2/health', { okStatuses: [200] })).body, 'health');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

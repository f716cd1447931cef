/**
 * The Zaqar operations over the WebSocket protocol (zaqar-websocket.md §6): each
 * operation is one action frame on a pipelined WsConnection; replies are normalised to
 * the client's types. Follows the reference's quirks where they leak into results:
 * `queue_get_stats` answers 404 with zero counts for a missing queue (read as zero
 * stats), and `claim_create` answers 204 `{"claim_id": null}` when nothing is claimable.
 */
import type {
  Claim, ClaimInfo, ClaimOptions, JsonObject, ListMessagesOptions, ListQueuesOptions, Message, NewMessage,
  NewSubscription, Page, QueueStats, QueueSummary, Subscription, ZaqarApi,
} from './client-types.js';
import type { WsConnection, WsReply } from './ws-connection.js';
import { errorFromReply } from './zaqar-error.js';
import {
  asArray, asObject, newMessagesToWire, readClaimInfo, readMessage, readMessages, readQueueSummary, readStats,
  readSubscription,
} from './wire-shapes.js';

type Body = Record<string, JsonObject[string]>;

/** Drops undefined values: the wire never carries them. */
function body(fields: Record<string, JsonObject[string] | undefined>): Body {
  const out: Body = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

export class WsZaqarApi implements ZaqarApi {
  constructor(
    private readonly connection: WsConnection,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  /** Sends an action and returns its reply when the status is one of `okStatuses`. */
  async call(action: string, fields: Body | undefined, options: { readonly okStatuses: readonly number[] }): Promise<WsReply> {
    const envelope = fields === undefined ? { headers: this.headers } : { headers: this.headers, body: fields };
    const reply = await this.connection.request(action, envelope);
    if (!options.okStatuses.includes(reply.status)) throw errorFromReply(action, reply);
    return reply;
  }

  async createQueue(name: string, metadata?: JsonObject): Promise<{ readonly created: boolean }> {
    const reply = await this.call('queue_create', body({ queue_name: name, metadata }), { okStatuses: [201, 204] });
    return { created: reply.status === 201 };
  }

  async deleteQueue(name: string): Promise<void> {
    await this.call('queue_delete', { queue_name: name }, { okStatuses: [204] });
  }

  async getQueueMetadata(name: string): Promise<JsonObject> {
    return asObject((await this.call('queue_get', { queue_name: name }, { okStatuses: [200] })).body, 'queue metadata');
  }

  async listQueues(options: ListQueuesOptions = {}): Promise<Page<QueueSummary>> {
    const fields = body({ marker: options.marker, limit: options.limit, detailed: options.detailed });
    const reply = await this.call('queue_list', fields, { okStatuses: [200] });
    const items = asArray(asObject(reply.body, 'queue list')['queues'], 'queues').map(readQueueSummary);
    return { items, nextMarker: items.at(-1)?.name };
  }

  async queueStats(name: string): Promise<QueueStats> {
    return readStats((await this.call('queue_get_stats', { queue_name: name }, { okStatuses: [200, 404] })).body);
  }

  async purgeQueue(name: string, resourceTypes?: readonly ('messages' | 'subscriptions')[]): Promise<void> {
    await this.call('queue_purge', body({ queue_name: name, resource_types: resourceTypes }), { okStatuses: [204] });
  }

  async postMessages(queue: string, messages: readonly NewMessage[]): Promise<readonly string[]> {
    const reply = await this.call('message_post', { queue_name: queue, messages: newMessagesToWire(messages) }, { okStatuses: [201] });
    return asArray(asObject(reply.body, 'post result')['message_ids'], 'message_ids').map(String);
  }

  async listMessages(queue: string, options: ListMessagesOptions = {}): Promise<Page<Message>> {
    const fields = body({
      queue_name: queue, marker: options.marker, limit: options.limit, echo: options.echo,
      include_claimed: options.includeClaimed,
    });
    const doc = asObject((await this.call('message_list', fields, { okStatuses: [200] })).body, 'message list');
    const marker = doc['marker'];
    return { items: readMessages(doc['messages']), nextMarker: typeof marker === 'string' ? marker : undefined };
  }

  async getMessage(queue: string, id: string): Promise<Message> {
    const reply = await this.call('message_get', { queue_name: queue, message_id: id }, { okStatuses: [200] });
    return readMessage(asObject(reply.body, 'message')['messages']);
  }

  async getMessages(queue: string, ids: readonly string[]): Promise<readonly Message[]> {
    const reply = await this.call('message_get_many', { queue_name: queue, message_ids: [...ids] }, { okStatuses: [200] });
    return readMessages(asObject(reply.body, 'messages')['messages']);
  }

  async deleteMessage(queue: string, id: string, options: { readonly claimId?: string } = {}): Promise<void> {
    await this.call('message_delete', body({ queue_name: queue, message_id: id, claim_id: options.claimId }), { okStatuses: [204] });
  }

  async deleteMessages(queue: string, ids: readonly string[]): Promise<void> {
    await this.call('message_delete_many', { queue_name: queue, message_ids: [...ids] }, { okStatuses: [204] });
  }

  async popMessages(queue: string, count: number): Promise<readonly Message[]> {
    const reply = await this.call('message_delete_many', { queue_name: queue, pop: count }, { okStatuses: [200] });
    return readMessages(asObject(reply.body, 'popped')['messages']);
  }

  async claimMessages(queue: string, options: ClaimOptions = {}): Promise<Claim | undefined> {
    const fields = body({ queue_name: queue, ttl: options.ttl, grace: options.grace, limit: options.limit });
    const reply = await this.call('claim_create', fields, { okStatuses: [201, 204] });
    if (reply.status === 204) return undefined;
    const doc = asObject(reply.body, 'claim');
    const id = doc['claim_id'];
    if (typeof id !== 'string') return undefined;
    return { id, messages: readMessages(doc['messages']).map((m) => ({ ...m, claimId: id })) };
  }

  async getClaim(queue: string, claimId: string): Promise<ClaimInfo> {
    return readClaimInfo((await this.call('claim_get', { queue_name: queue, claim_id: claimId }, { okStatuses: [200] })).body, claimId);
  }

  async renewClaim(queue: string, claimId: string, options: { ttl?: number; grace?: number } = {}): Promise<void> {
    const fields = body({ queue_name: queue, claim_id: claimId, ttl: options.ttl, grace: options.grace });
    await this.call('claim_update', fields, { okStatuses: [204] });
  }

  async releaseClaim(queue: string, claimId: string): Promise<void> {
    await this.call('claim_delete', { queue_name: queue, claim_id: claimId }, { okStatuses: [204] });
  }

  async createSubscription(queue: string, subscription: NewSubscription): Promise<string> {
    const fields = body({
      queue_name: queue, subscriber: subscription.subscriber, ttl: subscription.ttl, options: subscription.options,
    });
    const reply = await this.call('subscription_create', fields, { okStatuses: [201] });
    return String(asObject(reply.body, 'subscription')['subscription_id']);
  }

  async listSubscriptions(queue: string, options: { marker?: string; limit?: number } = {}): Promise<Page<Subscription>> {
    const fields = body({ queue_name: queue, marker: options.marker, limit: options.limit });
    const reply = await this.call('subscription_list', fields, { okStatuses: [200] });
    const items = asArray(asObject(reply.body, 'subscriptions')['subscriptions'], 'subscriptions').map(readSubscription);
    return { items, nextMarker: items.at(-1)?.id };
  }

  async getSubscription(queue: string, id: string): Promise<Subscription> {
    const reply = await this.call('subscription_get', { queue_name: queue, subscription_id: id }, { okStatuses: [200] });
    return readSubscription(reply.body);
  }

  async deleteSubscription(queue: string, id: string): Promise<void> {
    await this.call('subscription_delete', { queue_name: queue, subscription_id: id }, { okStatuses: [204] });
  }

  async ping(): Promise<boolean> {
    const reply = await this.connection.request('ping_node', { headers: this.headers });
    return reply.status < 400;
  }

  async health(): Promise<JsonObject> {
    return asObject((await this.call('check_node_health', undefined, { okStatuses: [200] })).body, 'health');
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

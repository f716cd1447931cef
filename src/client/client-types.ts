/**
 * Public types of the zaqar-ts client (`zaqar-ts/client`): the options a user passes and
 * the normalised results every operation returns. Both transports (HTTP and WebSocket)
 * return these same shapes, so code written against one works against the other; where
 * the Zaqar wire formats differ (HTTP `href`s vs WebSocket `id`s, `resources` vs
 * `message_ids`, 204-with-no-body vs `{"claim_id": null}`) the transport normalises.
 */

/** Any JSON value a message body or queue metadata may hold. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** Frame encoding on a WebSocket: JSON text frames or MessagePack binary frames. */
export type WsEncoding = 'json' | 'msgpack';

export interface ReconnectOptions {
  /** First delay after a lost connection. */
  readonly initialDelayMs: number;
  /** Upper bound of one delay. */
  readonly maxDelayMs: number;
  /** Growth factor per failed attempt. */
  readonly multiplier: number;
  /** Attempts before giving up (Infinity: never). */
  readonly attemptsMax: number;
}

export interface ClientOptions {
  /** `http(s)://host:port` (HTTP API) or `ws(s)://host:port/` (WebSocket API). */
  readonly url: string;
  /** X-Project-ID of every request. */
  readonly project: string;
  /** Client-ID (a UUID); a random one when absent. Messages posted with it are not echoed by default. */
  readonly clientId?: string;
  /** Keystone token: sent as X-Auth-Token (HTTP) or by `authenticate` after each (re)connect (WebSocket). */
  readonly authToken?: string;
  /** Extra headers on every request (e.g. `X-Roles` for admin calls in no-auth deployments). */
  readonly headers?: Readonly<Record<string, string>>;
  /** WebSocket only; default `msgpack`. */
  readonly encoding?: WsEncoding;
  /** A request not answered within this fails with a ZaqarTimeoutError; default 30 000. */
  readonly requestTimeoutMs?: number;
  /** WebSocket only: requests sent and not yet answered, at most; default 1024. */
  readonly inFlightMax?: number;
  /** WebSocket only: reconnect policy; default 100 ms doubling to 10 s, forever. */
  readonly reconnect?: Partial<ReconnectOptions>;
  /** WebSocket only: frames the server pushes for socket subscriptions (zaqar-websocket.md §8). */
  readonly onNotification?: (notification: JsonObject) => void;
}

export interface NewMessage {
  readonly body: Json;
  /** Seconds; the queue's or server's default when absent. */
  readonly ttl?: number;
  /** Seconds; honoured only by queues with a default delay. */
  readonly delay?: number;
}

export interface Message {
  readonly id: string;
  readonly ttl: number;
  readonly age: number;
  readonly body: Json;
  /** The claim holding the message when it came from a claim; null otherwise. */
  readonly claimId: string | null;
}

export interface Claim {
  readonly id: string;
  readonly messages: readonly Message[];
}

export interface ClaimInfo extends Claim {
  readonly ttl: number;
  readonly age: number;
}

export interface ClaimOptions {
  readonly ttl?: number;
  readonly grace?: number;
  readonly limit?: number;
}

export interface QueueSummary {
  readonly name: string;
  /** Present when listed with `detailed: true`. */
  readonly metadata?: JsonObject;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `marker` to read the next page; undefined when the page was empty or the server gave none. */
  readonly nextMarker: string | undefined;
}

export interface ListQueuesOptions {
  readonly marker?: string;
  readonly limit?: number;
  readonly detailed?: boolean;
}

export interface ListMessagesOptions {
  readonly marker?: string;
  readonly limit?: number;
  /** Include messages posted with this client's Client-ID. */
  readonly echo?: boolean;
  readonly includeClaimed?: boolean;
}

export interface MessageStat {
  readonly id: string;
  readonly age: number;
  readonly created: string;
}

export interface QueueStats {
  readonly claimed: number;
  readonly free: number;
  readonly total: number;
  readonly oldest?: MessageStat;
  readonly newest?: MessageStat;
}

export interface Subscription {
  readonly id: string;
  readonly source: string;
  readonly subscriber: string;
  readonly ttl: number;
  readonly age: number;
  readonly options: JsonObject;
  readonly confirmed: boolean;
}

export interface NewSubscription {
  /** Webhook or mailto URI; over WebSocket, omit it to subscribe this socket. */
  readonly subscriber?: string;
  readonly ttl?: number;
  readonly options?: JsonObject;
}

/** The operations both transports offer, with normalised results. */
export interface ZaqarApi {
  createQueue(name: string, metadata?: JsonObject): Promise<{ readonly created: boolean }>;
  deleteQueue(name: string): Promise<void>;
  /** HTTP shows reserved keys with their defaults; WebSocket returns metadata as stored. */
  getQueueMetadata(name: string): Promise<JsonObject>;
  listQueues(options?: ListQueuesOptions): Promise<Page<QueueSummary>>;
  queueStats(name: string): Promise<QueueStats>;
  purgeQueue(name: string, resourceTypes?: readonly ('messages' | 'subscriptions')[]): Promise<void>;
  postMessages(queue: string, messages: readonly NewMessage[]): Promise<readonly string[]>;
  listMessages(queue: string, options?: ListMessagesOptions): Promise<Page<Message>>;
  getMessage(queue: string, id: string): Promise<Message>;
  getMessages(queue: string, ids: readonly string[]): Promise<readonly Message[]>;
  deleteMessage(queue: string, id: string, options?: { readonly claimId?: string }): Promise<void>;
  deleteMessages(queue: string, ids: readonly string[]): Promise<void>;
  popMessages(queue: string, count: number): Promise<readonly Message[]>;
  /** undefined when nothing was claimable. */
  claimMessages(queue: string, options?: ClaimOptions): Promise<Claim | undefined>;
  getClaim(queue: string, claimId: string): Promise<ClaimInfo>;
  renewClaim(queue: string, claimId: string, options?: { readonly ttl?: number; readonly grace?: number }): Promise<void>;
  releaseClaim(queue: string, claimId: string): Promise<void>;
  createSubscription(queue: string, subscription: NewSubscription): Promise<string>;
  listSubscriptions(queue: string, options?: { readonly marker?: string; readonly limit?: number }): Promise<Page<Subscription>>;
  getSubscription(queue: string, id: string): Promise<Subscription>;
  deleteSubscription(queue: string, id: string): Promise<void>;
  /** True when the server answers its ping. */
  ping(): Promise<boolean>;
  /** The detailed health document (admin). */
  health(): Promise<JsonObject>;
  close(): Promise<void>;
}

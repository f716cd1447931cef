/**
 * Entry point of `zaqar-ts/client`: `createClient` picks the transport from the URL
 * scheme (`http(s)://` → HTTP with fetch, `ws(s)://` → one pipelined WebSocket,
 * MessagePack by default) and returns the same ZaqarApi either way. Because this file is
 * the package's public entry (package.json `exports["./client"]`), it also re-exports
 * the public types and helpers; nothing inside the project imports through it.
 *
 * Works against zaqar-ts and against upstream Zaqar alike: only documented wire
 * features are used (the WebSocket request id rides in a header every server echoes).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { SeededRandom, type Random } from '../common/random.js';
import type { ClientOptions, ZaqarApi } from './client-types.js';
import type { Delays } from '../common/timers.js';
import { systemDelays } from './client-delays.js';
import { defaultReconnectOptions } from './backoff.js';
import { HttpZaqarApi } from './http-api.js';
import { WsConnection } from './ws-connection.js';
import { WsZaqarApi } from './ws-api.js';
import { errorFromReply } from './zaqar-error.js';

export type * from './client-types.js';
export { ZaqarError, ZaqarConnectionError, ZaqarTimeoutError, ZaqarLimitError } from './zaqar-error.js';
export { Producer, type ProducerOptions } from './producer.js';
export { Consumer, type ConsumerOptions, type MessageHandler } from './consumer.js';
export type { Delays } from '../common/timers.js';
export { ManualDelays } from './manual-delays.js';

export type ZaqarClient = ZaqarApi;

/** Injected delays and randomness; defaults are systemDelays and a randomly seeded Random. */
export interface ClientDeps {
  readonly delays?: Delays;
  readonly random?: Random;
}

export function createClient(options: ClientOptions, deps: ClientDeps = {}): ZaqarClient {
  const delays = deps.delays ?? systemDelays;
  const headers: Record<string, string> = {
    'Client-ID': options.clientId ?? randomUUID(),
    'X-Project-ID': options.project,
    ...options.headers,
  };
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const scheme = new URL(options.url).protocol;
  if (scheme === 'http:' || scheme === 'https:') {
    if (options.authToken !== undefined) headers['X-Auth-Token'] = options.authToken;
    return new HttpZaqarApi({ baseUrl: options.url, headers, requestTimeoutMs, delays });
  }
  if (scheme !== 'ws:' && scheme !== 'wss:') throw new TypeError(`unsupported URL scheme ${scheme}`);
  const authToken = options.authToken;
  const connection = new WsConnection({
    url: options.url,
    encoding: options.encoding ?? 'msgpack',
    requestTimeoutMs,
    inFlightMax: options.inFlightMax ?? 1024,
    reconnect: { ...defaultReconnectOptions, ...options.reconnect },
    delays,
    random: deps.random ?? new SeededRandom(randomInt(2 ** 31)),
    ...(options.onNotification === undefined ? {} : { onNotification: options.onNotification }),
    ...(authToken === undefined ? {} : {
      onOpen: async (send) => {
        const reply = await send('authenticate', { ...headers, 'X-Auth-Token': authToken });
        if (reply.status !== 200) throw errorFromReply('authenticate', reply);
      },
    }),
  });
  return new WsZaqarApi(connection, headers);
}

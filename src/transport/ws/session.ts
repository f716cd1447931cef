/**
 * WebSocket sessions on uWebSockets.js — the only WebSocket file importing it. Mounts
 * the Zaqar WebSocket protocol on an app (path `/` of the HTTP app, and every path of
 * the separate `--ws-listen` listener) and moves frames between uWS and WsDispatcher.
 *
 * Fast path: requests of a socket start in arrival order and are answered as soon as
 * they complete (the replies of one burst of completions leave under one cork),
 * correlated by the echoed request headers; many may be in flight. Writes
 * start at once (posts pipeline into the same log appends); a read waits until the
 * socket's earlier writes have completed, so a socket always reads its own writes.
 *
 * Memory bounds per socket (STYLE.md §5): at most `inFlightPerSocketMax` requests run
 * at once; further frames wait in a queue of at most `queuedPerSocketMax` requests and
 * `queuedBytesPerSocketMax` frame bytes (beyond either the socket is closed with 1008). While uWS holds more than half of `maxBackpressureBytes`
 * unsent, no new request of that socket starts (its frames queue) until `drain`; a
 * reply uWS drops because the buffer reached `maxBackpressureBytes` closes the socket
 * with 1008, since its client would otherwise wait forever. Frames above
 * `maxPayloadBytes` make uWS close the connection. A closed socket is never touched
 * again: replies finishing after close are discarded.
 *
 * Socket subscriptions (socket-subscriptions.ts): each socket has a random `protoId`;
 * the mount also answers `POST /ws-notifications/<protoId>` (bodies up to
 * `maxPayloadBytes`) by pushing the body to that socket.
 */
import { randomUUID } from 'node:crypto';
import uWS from 'uWebSockets.js';
import { isJsonObject } from '../../api/json-body.js';
import type { ApiDeps } from '../../api/operation.js';
import type { ErrorLogger } from '../error-reply.js';
import { noTransportMetrics, type TransportMetrics } from '../metrics.js';
import { checkEnvelope, encodeFrame, encodeResponse, type WsRequest, type WsResponse } from './protocol.js';
import { advertisedHost, notificationPath, SocketSubscriptions } from './socket-subscriptions.js';
import { WsDispatcher } from './ws-dispatcher.js';
import type { WsAuthState } from './ws-auth.js';
import type { Identity } from '../../api/auth/auth-strategy.js';
import { defaultWsLimits, policyCloseCode, type WsLimits } from './ws-limits.js';

export interface WsSessionOptions {
  readonly api: ApiDeps;
  readonly limits: WsLimits;
  readonly log: ErrorLogger;
  /** Requests by action and status, open sessions; none when absent. */
  readonly metrics?: TransportMetrics;
}

interface Session {
  readonly protoId: string;
  isClosed: boolean;
  /** Frames waiting for the next flush, in the order they were ready. */
  outbox: OutgoingFrame[];
  inFlight: number;
  writesInFlight: number;
  queue: { request: WsRequest; isBinary: boolean; bytes: number }[];
  queuedBytes: number;
  /** Keystone authentication of this socket; undefined without an auth strategy. */
  auth?: WsAuthState;
  /** Closes the socket with 4003 when its token expires (zaqar-websocket.md §7.1 step 5). */
  expiryTimer?: ReturnType<typeof setTimeout>;
}

interface OutgoingFrame {
  readonly frame: string | Uint8Array;
  readonly isBinary: boolean;
}

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const timerDelayMaxMs = 2 ** 31 - 1;

/** Actions without effects: they wait for the socket's earlier writes. */
const readActions = new Set(['queue_list', 'queue_get', 'queue_get_stats', 'message_list', 'message_get',
  'message_get_many', 'claim_get', 'subscription_list', 'subscription_get', 'get_home_doc', 'ping_node',
  'check_node_health', 'pool_list', 'pool_get', 'flavor_list', 'flavor_get']);

export interface MountedWebSocket {
  /** Closes every open socket (1001 Going Away), e.g. at shutdown. */
  closeAll(): void;
}

type Socket = uWS.WebSocket<Session>;

/** The sessions of one mount: per-socket scheduling, replies and bounds. */
class WsSessions implements MountedWebSocket {
  private readonly open = new Set<Socket>();
  private readonly dispatcher: WsDispatcher;
  private readonly metrics: TransportMetrics;
  private readonly softBackpressureBytes: number;
  private readonly queuedBytesMax: number;
  private readonly subscriptions = new SocketSubscriptions();
  /** Sockets whose outbox has frames; flushed once the current burst of completions has run. */
  private sending: { readonly ws: Socket; readonly session: Session }[] = [];

  constructor(private readonly options: WsMountOptions) {
    this.dispatcher = new WsDispatcher({ api: options.api, log: options.log });
    this.metrics = options.metrics ?? noTransportMetrics;
    this.softBackpressureBytes = Math.floor(options.limits.maxBackpressureBytes / 2);
    this.queuedBytesMax = options.limits.queuedBytesPerSocketMax ?? defaultWsLimits.queuedBytesPerSocketMax ?? 0;
  }

  closeAll(): void {
    for (const ws of [...this.open]) ws.end(1001, 'Server shutting down.');
  }

  onOpen(ws: Socket): void {
    this.open.add(ws);
    this.metrics.wsSessionOpened();
    const session = ws.getUserData();
    if (this.options.api.auth !== undefined) {
      session.auth = { identity: undefined, isPending: false, onAuthenticated: (identity) => this.armExpiry(ws, identity) };
    }
    this.subscriptions.register({
      protoId: session.protoId,
      push: (frame, isBinary) => this.enqueue(ws, session, frame, isBinary),
    });
  }

  onClose(ws: Socket): void {
    this.open.delete(ws);
    this.metrics.wsSessionClosed();
    const session = ws.getUserData();
    session.isClosed = true;
    clearTimeout(session.expiryTimer);
    session.outbox = [];
    session.queue = [];
    session.queuedBytes = 0;
    for (const subscription of this.subscriptions.unregister(session.protoId)) {
      const checked = checkEnvelope({ action: 'subscription_delete', headers: subscription.headers,
        body: { queue_name: subscription.queue, subscription_id: subscription.id } });
      if (checked.ok) void this.dispatcher.run(checked.value, { subscriberUrl: undefined, auth: session.auth });
    }
  }

  /** `POST /ws-notifications/<protoId>`: the notifier's delivery for a socket subscription. */
  onNotification(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const protoId = req.getParameter(0) ?? '';
    const chunks: Buffer[] = [];
    let received = 0;
    let isAborted = false;
    res.onAborted(() => {
      isAborted = true;
    });
    res.onData((chunk, isLast) => {
      received += chunk.byteLength;
      if (received <= this.options.limits.maxPayloadBytes) chunks.push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses it
      if (!isLast || isAborted) return;
      const isTooLarge = received > this.options.limits.maxPayloadBytes;
      if (!isTooLarge) this.subscriptions.deliver(protoId, Buffer.concat(chunks));
      res.cork(() => res.writeStatus(isTooLarge ? '413 Payload Too Large' : '200 OK').end());
    });
  }

  /** Runs inside the uWS callback: the frame is decoded before it returns (its memory is reused). */
  onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const session = ws.getUserData();
    if (session.isClosed) return;
    const prepared = this.dispatcher.prepare(new Uint8Array(message), isBinary);
    if (!prepared.ok) {
      this.metrics.wsRequest({ action: 'invalid', status: prepared.response.headers.status, seconds: 0 });
      this.enqueue(ws, session, encodeFrame(prepared.response, isBinary), isBinary);
      return;
    }
    if (session.queue.length === 0 && this.canStart(ws, session, prepared.value)) {
      this.start(ws, prepared.value, isBinary);
      return;
    }
    const bytes = message.byteLength;
    if (session.queue.length >= this.options.limits.queuedPerSocketMax || session.queuedBytes + bytes > this.queuedBytesMax) {
      ws.end(policyCloseCode, 'Too many requests in flight.');
      return;
    }
    session.queue.push({ request: prepared.value, isBinary, bytes });
    session.queuedBytes += bytes;
  }

  /** Starts queued requests while the socket's bounds allow. */
  pump(ws: Socket): void {
    const session = ws.getUserData();
    for (let next = session.queue[0]; next !== undefined && !session.isClosed && this.canStart(ws, session, next.request);
      next = session.queue[0]) {
      session.queue.shift();
      session.queuedBytes -= next.bytes;
      this.start(ws, next.request, next.isBinary);
    }
  }

  private canStart(ws: Socket, session: Session, request: WsRequest): boolean {
    return session.inFlight < this.options.limits.inFlightPerSocketMax && ws.getBufferedAmount() < this.softBackpressureBytes
      && (session.writesInFlight === 0 || !readActions.has(request.action));
  }

  private start(ws: Socket, request: WsRequest, isBinary: boolean): void {
    const session = ws.getUserData();
    const isWrite = !readActions.has(request.action);
    session.inFlight += 1;
    if (isWrite) session.writesInFlight += 1;
    const finished = (): void => {
      session.inFlight -= 1;
      if (isWrite) session.writesInFlight -= 1;
    };
    const clock = this.options.api.clock;
    const startMs = clock.monotonicMs();
    this.dispatcher.run(request, { subscriberUrl: this.subscriberUrl(session), auth: session.auth }).then((document) => {
      finished();
      this.noteSocketSubscription(session, request, document, isBinary);
      // Actions passed the envelope check, so `action` is one of the known names.
      this.metrics.wsRequest({ action: request.action, status: document.headers.status, seconds: (clock.monotonicMs() - startMs) / 1000 });
      if (session.isClosed) return;
      this.enqueue(ws, session, encodeResponse(request, document, isBinary), isBinary);
    }, (error: unknown) => {
      finished();
      this.options.log('websocket dispatch failed', error); // run() never rejects; this is a bug
    }).catch((error: unknown) => this.options.log('websocket reply failed', error));
  }

  /** (Re)arms the close at the token's expiry; an `authenticate` before then replaces the deadline. */
  private armExpiry(ws: Socket, identity: Identity): void {
    const session = ws.getUserData();
    clearTimeout(session.expiryTimer);
    const delayMs = identity.expiresAtMs - this.options.api.clock.nowMs();
    session.expiryTimer = setTimeout(() => {
      if (session.isClosed || session.auth?.identity !== identity) return;
      if (identity.expiresAtMs > this.options.api.clock.nowMs()) {
        this.armExpiry(ws, identity);
        return;
      }
      session.auth.identity = undefined;
      ws.end(4003, 'Authentication expired.');
    }, Math.min(Math.max(delayMs, 0), timerDelayMaxMs));
  }

  private subscriberUrl(session: Session): string | undefined {
    const base = this.options.notificationBaseUrl?.();
    if (base === undefined || !this.subscriptions.hasRoom(session.protoId)) return undefined;
    return `${base}${notificationPath}/${session.protoId}`;
  }

  private noteSocketSubscription(session: Session, request: WsRequest, document: WsResponse, isBinary: boolean): void {
    if (request.action !== 'subscription_create' || typeof request.body['subscriber'] === 'string') return;
    const id = isJsonObject(document.body) ? document.body['subscription_id'] : undefined;
    if (document.headers.status !== 201 || typeof id !== 'string') return;
    this.subscriptions.record(session.protoId, { queue: String(request.body['queue_name']), id, headers: request.headers },
      isBinary);
  }

  /**
   * Queues a frame for the socket. Replies complete in bursts (one log round resolves
   * many posts at once): sending each under its own cork costs one write system call per
   * reply, so the frames ready in one burst go out per socket under a single cork, in a
   * microtask queued behind the burst's completions.
   */
  private enqueue(ws: Socket, session: Session, frame: string | Uint8Array, isBinary: boolean): void {
    if (session.isClosed) return;
    if (session.outbox.length === 0) {
      if (this.sending.length === 0) queueMicrotask(() => this.flush());
      this.sending.push({ ws, session });
    }
    session.outbox.push({ frame, isBinary });
  }

  private flush(): void {
    const sockets = this.sending;
    this.sending = [];
    for (const { ws, session } of sockets) {
      const frames = session.outbox;
      session.outbox = [];
      if (session.isClosed) continue;
      if (!this.sendFrames(ws, frames)) continue;
      this.pump(ws);
    }
  }

  /** Sends frames under one cork; one uWS had to drop (buffer full) means the client would wait forever: close it. */
  private sendFrames(ws: Socket, frames: readonly OutgoingFrame[]): boolean {
    let isDropped = false;
    ws.cork(() => {
      for (const { frame, isBinary } of frames) if (ws.send(frame, isBinary) === 2) isDropped = true;
    });
    if (isDropped) ws.end(policyCloseCode, 'Reader too slow: reply dropped.');
    return !isDropped;
  }
}

export interface WsMountOptions extends WsSessionOptions {
  /** URL pattern the sessions answer on (`/` on the HTTP app, `/*` on the WebSocket-only listener). */
  readonly pattern: string;
  /** `http://host:port` of this app as other nodes reach it, once listening; undefined: no socket subscriptions. */
  readonly notificationBaseUrl?: () => string | undefined;
}

/** Registers the WebSocket behaviour on an existing uWS app. */
export function mountWebSocket(app: uWS.TemplatedApp, options: WsMountOptions): MountedWebSocket {
  const sessions = new WsSessions(options);
  const { limits } = options;
  app.ws<Session>(options.pattern, {
    maxPayloadLength: limits.maxPayloadBytes,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: 0,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const session: Session = {
        protoId: randomUUID(), isClosed: false, outbox: [], inFlight: 0, writesInFlight: 0, queue: [], queuedBytes: 0,
      };
      res.upgrade(session, key, protocol, extensions, context);
    },
    open: (ws) => sessions.onOpen(ws),
    message: (ws, message, isBinary) => sessions.onMessage(ws, message, isBinary),
    drain: (ws) => sessions.pump(ws),
    close: (ws) => sessions.onClose(ws),
  });
  app.post(`${notificationPath}/:protoId`, (res, req) => sessions.onNotification(res, req));
  return sessions;
}

/** The separate WebSocket listener (Zaqar's `[drivers:transport:websocket]` port). */
export class WsListener {
  private constructor(
    private listenSocket: uWS.us_listen_socket | undefined,
    readonly port: number,
    private readonly sockets: MountedWebSocket,
  ) {}

  static listen(options: WsSessionOptions & { readonly host: string; readonly port: number }): Promise<WsListener> {
    const { host, port } = options;
    const app = uWS.App();
    let baseUrl: string | undefined;
    const sockets = mountWebSocket(app, { ...options, pattern: '/*', notificationBaseUrl: () => baseUrl });
    return new Promise((resolve, reject) => {
      app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen for WebSocket on ${host}:${port}`));
          return;
        }
        const listener = new WsListener(socket, uWS.us_socket_local_port(socket), sockets);
        baseUrl = `http://${advertisedHost(host)}:${listener.port}`;
        resolve(listener);
      });
    });
  }

  /** Stops listening and closes the open sockets. */
  close(): void {
    if (this.listenSocket !== undefined) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.sockets.closeAll();
  }
}

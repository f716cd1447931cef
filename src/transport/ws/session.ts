/**
 * WebSocket sessions on uWebSockets.js — the only WebSocket file importing it. Mounts
 * the Zaqar WebSocket protocol on an app (path `/` of the HTTP app, and every path of
 * the separate `--ws-listen` listener) and moves frames between uWS and WsDispatcher.
 *
 * Fast path: requests of a socket start in arrival order and are answered as soon as
 * they complete, correlated by the echoed request headers; many may be in flight. Writes
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
 */
import uWS from 'uWebSockets.js';
import type { ApiDeps } from '../../api/operation.js';
import type { ErrorLogger } from '../error-reply.js';
import { noTransportMetrics, type TransportMetrics } from '../metrics.js';
import { encodeFrame, type WsRequest, type WsResponse } from './protocol.js';
import { WsDispatcher } from './ws-dispatcher.js';
import { defaultWsLimits, policyCloseCode, type WsLimits } from './ws-limits.js';

export interface WsSessionOptions {
  readonly api: ApiDeps;
  readonly limits: WsLimits;
  readonly log: ErrorLogger;
  /** Requests by action and status, open sessions; none when absent. */
  readonly metrics?: TransportMetrics;
}

interface Session {
  isClosed: boolean;
  inFlight: number;
  writesInFlight: number;
  queue: { request: WsRequest; isBinary: boolean; bytes: number }[];
  queuedBytes: number;
}

/** Actions without effects: they wait for the socket's earlier writes. */
const readActions = new Set(['queue_list', 'queue_get', 'queue_get_stats', 'message_list', 'message_get',
  'message_get_many', 'claim_get', 'subscription_list', 'subscription_get', 'get_home_doc', 'ping_node',
  'check_node_health', 'pool_list', 'pool_get', 'flavor_list', 'flavor_get']);

export interface MountedWebSocket {
  /** Closes every open socket (1001 Going Away), e.g. at shutdown. */
  closeAll(): void;
}

/** Registers the WebSocket behaviour on `pattern` of an existing uWS app. */
export function mountWebSocket(app: uWS.TemplatedApp, pattern: string, options: WsSessionOptions): MountedWebSocket {
  const open = new Set<uWS.WebSocket<Session>>();
  const dispatcher = new WsDispatcher({ api: options.api, log: options.log });
  const { limits } = options;
  const metrics = options.metrics ?? noTransportMetrics;
  const clock = options.api.clock;
  const softBackpressureBytes = Math.floor(limits.maxBackpressureBytes / 2);

  const send = (ws: uWS.WebSocket<Session>, document: WsResponse, isBinary: boolean): void => {
    const frame = encodeFrame(document, isBinary);
    let status = 1;
    ws.cork(() => {
      status = ws.send(frame, isBinary);
    });
    if (status === 2) ws.end(policyCloseCode, 'Reader too slow: reply dropped.');
  };

  const start = (ws: uWS.WebSocket<Session>, request: WsRequest, isBinary: boolean): void => {
    const session = ws.getUserData();
    const isWrite = !readActions.has(request.action);
    session.inFlight += 1;
    if (isWrite) session.writesInFlight += 1;
    const finished = (): void => {
      session.inFlight -= 1;
      if (isWrite) session.writesInFlight -= 1;
    };
    const startMs = clock.monotonicMs();
    dispatcher.run(request).then((document) => {
      finished();
      // Actions passed the envelope check, so `action` is one of the known names.
      metrics.wsRequest({ action: request.action, status: document.headers.status, seconds: (clock.monotonicMs() - startMs) / 1000 });
      if (session.isClosed) return;
      send(ws, document, isBinary);
      if (!session.isClosed) pump(ws);
    }, (error: unknown) => {
      finished();
      options.log('websocket dispatch failed', error); // run() never rejects; this is a bug
    }).catch((error: unknown) => options.log('websocket reply failed', error));
  };

  const canStart = (ws: uWS.WebSocket<Session>, session: Session, request: WsRequest): boolean =>
    session.inFlight < limits.inFlightPerSocketMax && ws.getBufferedAmount() < softBackpressureBytes
    && (session.writesInFlight === 0 || !readActions.has(request.action));

  const pump = (ws: uWS.WebSocket<Session>): void => {
    const session = ws.getUserData();
    for (let next = session.queue[0]; next !== undefined && !session.isClosed && canStart(ws, session, next.request);
      next = session.queue[0]) {
      session.queue.shift();
      session.queuedBytes -= next.bytes;
      start(ws, next.request, next.isBinary);
    }
  };

  app.ws<Session>(pattern, {
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
      const session: Session = { isClosed: false, inFlight: 0, writesInFlight: 0, queue: [], queuedBytes: 0 };
      res.upgrade(session, key, protocol, extensions, context);
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData();
      if (session.isClosed) return;
      const prepared = dispatcher.prepare(new Uint8Array(message), isBinary);
      if (!prepared.ok) {
        metrics.wsRequest({ action: 'invalid', status: prepared.response.headers.status, seconds: 0 });
        send(ws, prepared.response, isBinary);
        return;
      }
      if (session.queue.length === 0 && canStart(ws, session, prepared.value)) {
        start(ws, prepared.value, isBinary);
        return;
      }
      const bytes = message.byteLength;
      if (session.queue.length >= limits.queuedPerSocketMax
        || session.queuedBytes + bytes > (limits.queuedBytesPerSocketMax ?? defaultWsLimits.queuedBytesPerSocketMax ?? 0)) {
        ws.end(policyCloseCode, 'Too many requests in flight.');
        return;
      }
      session.queue.push({ request: prepared.value, isBinary, bytes });
      session.queuedBytes += bytes;
    },
    open: (ws) => {
      open.add(ws);
      metrics.wsSessionOpened();
    },
    drain: (ws) => pump(ws),
    close: (ws) => {
      open.delete(ws);
      metrics.wsSessionClosed();
      const session = ws.getUserData();
      session.isClosed = true;
      session.queue = [];
      session.queuedBytes = 0;
    },
  });
  return {
    closeAll() {
      for (const ws of [...open]) ws.end(1001, 'Server shutting down.');
    },
  };
}

/** The separate WebSocket listener (Zaqar's `[drivers:transport:websocket]` port). */
export class WsListener {
  private constructor(
    private listenSocket: uWS.us_listen_socket | undefined,
    readonly port: number,
    private readonly sockets: MountedWebSocket,
  ) {}

  static listen(host: string, port: number, options: WsSessionOptions): Promise<WsListener> {
    const app = uWS.App();
    const sockets = mountWebSocket(app, '/*', options);
    return new Promise((resolve, reject) => {
      app.listen(host, port, (socket) => {
        if (socket === false) reject(new Error(`cannot listen for WebSocket on ${host}:${port}`));
        else resolve(new WsListener(socket, uWS.us_socket_local_port(socket), sockets));
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

/**
 * The HTTP transport on uWebSockets.js — the only file of the HTTP side that imports
 * it. It adapts uWS requests to api ApiRequests and ApiReplies back to bytes; every
 * Zaqar rule lives in the api. uWS discipline (STYLE.md §5): onAborted is attached
 * before anything asynchronous; everything needed from `req` is copied synchronously
 * (it is invalid after the handler returns); onData chunks are copied (uWS reuses
 * them); writes after an await happen inside `cork` and only if the request was not
 * aborted; large replies go out with tryEnd/onWritable so a slow reader applies
 * backpressure instead of growing our buffers. Bodies are bounded while they stream: a
 * body beyond the limit is not buffered, the operation sees its length and answers
 * its own 400, and the connection is closed because its remaining bytes are unread.
 */
import { randomUUID } from 'node:crypto';
import uWS from 'uWebSockets.js';
import { BrokerError } from '../../api/errors.js';
import type { ApiDeps, ApiReply, ApiRequest } from '../../api/operation.js';
import { acceptsJson, executeOperation } from '../../api/request-context.js';
import type { Logger } from '../../common/logger.js';
import { errorReply, type ErrorLogger } from '../error-reply.js';
import { methodLabel, noTransportMetrics, type TransportMetrics } from '../metrics.js';
import { allowHeader, matchRoute, type RouteTable } from './routes.js';
import { parseQuery, statusLine } from './http-text.js';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port; read the chosen one from `UwsHttpServer.port`. */
  readonly port: number;
  readonly api: ApiDeps;
  readonly routes: RouteTable;
  /** Request bodies beyond this many bytes are never buffered. */
  readonly bodyBytesMax: number;
  /**
   * A body must arrive completely within this long after its headers, else 408 and the
   * connection is closed (slow-body clients; uWS itself times out slow headers and idle
   * connections after about 10 s). Default 30 s.
   */
  readonly bodyTimeoutMs?: number;
  /**
   * Requests worked on at once (including those still receiving their body); one
   * beyond it is answered 503 with Retry-After and its connection closed, instead of
   * queueing without bound behind pipelining or slow clients. Default 10000.
   */
  readonly requestsInFlightMax?: number;
  readonly log: ErrorLogger;
  /** Lets another transport (the WebSocket sessions) register on this app before the HTTP catch-all route. */
  readonly configureApp?: (app: uWS.TemplatedApp) => void;
  /** Request counts and latencies by route template; none when absent. */
  readonly metrics?: TransportMetrics;
  /** One debug line per request (warn for 5xx) with its request id; none when absent. */
  readonly logger?: Logger;
  /**
   * GET endpoints outside the Zaqar route table (`/healthz`, `/readyz`, `/metrics`):
   * no Zaqar headers checked, not counted in the request metrics.
   */
  readonly plainRoutes?: ReadonlyMap<string, PlainHandler>;
  /** HTTPS and WSS on this port (uWS SSLApp); plaintext when absent. */
  readonly tls?: ClientTlsFiles;
}

/**
 * PEM files of the client port's certificate and key. With `caFile` uWS verifies a
 * client certificate against that CA at the handshake (a foreign one is refused), but
 * it cannot make one mandatory: a client presenting none is still served.
 */
export interface ClientTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** The uWS app of a listener: SSLApp with the given files, else App. Used by the WebSocket listener too. */
export function createUwsApp(tls: ClientTlsFiles | undefined): uWS.TemplatedApp {
  if (tls === undefined) return uWS.App();
  return uWS.SSLApp({
    cert_file_name: tls.certFile,
    key_file_name: tls.keyFile,
    ...(tls.caFile === undefined ? {} : { ca_file_name: tls.caFile }),
  });
}

export interface PlainReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export type PlainHandler = () => PlainReply | Promise<PlainReply>;

interface RequestHead {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: Record<string, string>;
  readonly requestId: string;
}

interface Exchange {
  isAborted: boolean;
  readonly res: uWS.HttpResponse;
  readonly startMs: number;
  /** Route template once matched: the metrics label. */
  route: string;
  /** An operation was started: it counts as in flight until its reply is written (or dropped). */
  isDispatched: boolean;
  /** No longer counted in `requestsInFlight`. */
  isSettled: boolean;
}

const defaultBodyTimeoutMs = 30_000;
const defaultRequestsInFlightMax = 10_000;

export class UwsHttpServer {
  private listenSocket: uWS.us_listen_socket | undefined;
  private inFlight = 0;
  private isDraining = false;
  private readonly metrics: TransportMetrics;

  private constructor(private readonly options: HttpServerOptions, readonly port: number, socket: uWS.us_listen_socket) {
    this.listenSocket = socket;
    this.metrics = options.metrics ?? noTransportMetrics;
  }

  static listen(options: HttpServerOptions): Promise<UwsHttpServer> {
    const app = createUwsApp(options.tls);
    options.configureApp?.(app);
    for (const [path, handler] of options.plainRoutes ?? []) app.get(path, (res) => servePlain(res, handler));
    let server: UwsHttpServer | undefined;
    app.any('/*', (res, req) => {
      const exchange: Exchange = {
        isAborted: false, res, startMs: options.api.clock.monotonicMs(), route: 'unmatched', isDispatched: false, isSettled: false,
      };
      res.onAborted(() => {
        exchange.isAborted = true;
        // Gone while its body was still arriving: no operation will ever finish it.
        if (!exchange.isDispatched) server?.settle(exchange);
      });
      const headers: Record<string, string> = {};
      req.forEach((key, value) => {
        headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
      });
      const head: RequestHead = {
        method: req.getCaseSensitiveMethod(),
        path: req.getUrl(),
        rawQuery: req.getQuery() ?? '',
        headers,
        requestId: `req-${randomUUID()}`,
      };
      if (server === undefined) throw new Error('request before listen completed');
      server.accept(exchange, head);
    });
    return new Promise((resolve, reject) => {
      app.listen(options.host, options.port, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen on ${options.host}:${options.port}`));
          return;
        }
        server = new UwsHttpServer(options, uWS.us_socket_local_port(socket), socket);
        resolve(server);
      });
    });
  }

  /** Requests received and not yet answered (or abandoned by their client before dispatch). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Shutdown has begun: every reply from now on closes its connection, so keep-alive
   * clients reconnect (to another node, once readiness has taken this one out).
   */
  drain(): void {
    this.isDraining = true;
  }

  /** Stops accepting connections; requests in flight finish on their own. */
  close(): void {
    if (this.listenSocket !== undefined) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  /** Reads the body (bounded) if there is one, then dispatches. Runs inside the uWS handler. */
  private accept(exchange: Exchange, head: RequestHead): void {
    this.inFlight++;
    if (this.inFlight > (this.options.requestsInFlightMax ?? defaultRequestsInFlightMax)) {
      exchange.isDispatched = true;
      const error = new BrokerError('overloaded', 'Too many requests in flight. Please try again in a few seconds.', { retryAfterSeconds: 1 });
      this.finish(exchange, head, errorReplyFor(head, error), true);
      return;
    }
    const declared = head.headers['content-length'];
    const isChunked = head.headers['transfer-encoding'] !== undefined;
    if (declared === undefined && !isChunked) {
      this.dispatchSafely(exchange, head, null, false);
      return;
    }
    const declaredBytes = declared === undefined ? 0 : Number(declared);
    if (declared !== undefined && (!Number.isSafeInteger(declaredBytes) || declaredBytes < 0)) {
      this.finish(exchange, head, errorReplyFor(head, new BrokerError('invalid_request_body', 'Request body could not be read.')), true);
      return;
    }
    if (declaredBytes > this.options.bodyBytesMax) {
      this.dispatchSafely(exchange, head, new Uint8Array(0), true);
      return;
    }
    if (declared !== undefined && declaredBytes === 0 && !isChunked) {
      this.dispatchSafely(exchange, head, new Uint8Array(0), false);
      return;
    }
    this.readBody(exchange, head);
  }

  private readBody(exchange: Exchange, head: RequestHead): void {
    const chunks: Buffer[] = [];
    let received = 0;
    let isDone = false;
    const timer = setTimeout(() => {
      if (isDone || exchange.isAborted) return;
      isDone = true;
      chunks.length = 0;
      exchange.isDispatched = true;
      const error = new BrokerError('request_timeout', 'The request body did not arrive in time.');
      this.finish(exchange, head, errorReplyFor(head, error), true);
    }, this.options.bodyTimeoutMs ?? defaultBodyTimeoutMs);
    exchange.res.onData((chunk, isLast) => {
      if (isDone) return;
      if (exchange.isAborted) {
        clearTimeout(timer);
        return;
      }
      received += chunk.byteLength;
      if (received > this.options.bodyBytesMax) {
        isDone = true;
        clearTimeout(timer);
        chunks.length = 0; // drop what we held: the operation only needs the length
        head.headers['content-length'] = String(received);
        this.dispatchSafely(exchange, head, new Uint8Array(0), true);
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses the chunk's memory
      if (isLast) {
        isDone = true;
        clearTimeout(timer);
        this.dispatchSafely(exchange, head, Buffer.concat(chunks, received), false);
      }
    });
  }

  private dispatchSafely(exchange: Exchange, head: RequestHead, body: Uint8Array | null, mustClose: boolean): void {
    exchange.isDispatched = true;
    this.dispatch(exchange, head, body)
      .then(
        (reply) => this.finish(exchange, head, reply, mustClose),
        (error: unknown) => this.finish(exchange, head, errorReplyFor(head, error, this.options.log), mustClose),
      )
      .catch((error: unknown) => this.options.log(`${head.requestId} could not write the reply`, error));
  }

  private async dispatch(exchange: Exchange, head: RequestHead, body: Uint8Array | null): Promise<ApiReply> {
    const match = matchRoute(this.options.routes, head.path);
    if (match === undefined) throw new BrokerError('route_not_found');
    exchange.route = match.template;
    const operation = match.methods[head.method];
    if (operation === undefined) {
      if (head.method === 'OPTIONS') return { status: 200, headers: { allow: allowHeader(match) } };
      throw new BrokerError('method_not_allowed', '', { headers: { allow: allowHeader(match) } });
    }
    const request: ApiRequest = {
      method: head.method,
      path: head.path,
      params: match.params,
      query: parseQuery(head.rawQuery),
      headers: head.headers,
      body: body === null ? null : { bytes: body },
      requestId: head.requestId,
    };
    return executeOperation(this.options.api, operation, request);
  }

  /** Writes the reply unless the client went away; safe to call after any await. */
  private finish(exchange: Exchange, head: RequestHead, reply: ApiReply, mustCloseRequest: boolean): void {
    this.settle(exchange);
    this.record(exchange, head, reply.status);
    if (exchange.isAborted) return;
    const mustClose = mustCloseRequest || this.isDraining;
    const { res } = exchange;
    const payload = reply.body === undefined ? undefined : Buffer.from(JSON.stringify(reply.body), 'utf8');
    res.cork(() => {
      res.writeStatus(statusLine(reply.status));
      res.writeHeader('x-openstack-request-id', head.requestId);
      const headers = reply.headers;
      if (payload !== undefined && headers['content-type'] === undefined) {
        res.writeHeader('content-type', 'application/json; charset=UTF-8');
      }
      for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
      if (payload === undefined || head.method === 'HEAD') {
        if (reply.status === 204 || reply.status === 304 || head.method === 'HEAD') res.endWithoutBody(0, mustClose);
        else res.end('', mustClose);
        return;
      }
      if (mustClose) {
        res.end(payload, true);
        return;
      }
      writeWithBackpressure(exchange, payload);
    });
  }

  private settle(exchange: Exchange): void {
    if (exchange.isSettled) return;
    exchange.isSettled = true;
    this.inFlight--;
  }

  private record(exchange: Exchange, head: RequestHead, status: number): void {
    const seconds = (this.options.api.clock.monotonicMs() - exchange.startMs) / 1000;
    const method = methodLabel(head.method);
    this.metrics.httpRequest({ route: exchange.route, method, status, seconds });
    const logger = this.options.logger;
    if (logger === undefined) return;
    const line = { reqId: head.requestId, method, route: exchange.route, status, ms: Math.round(seconds * 1000) };
    if (status >= 500) logger.warn(line, 'request failed');
    else logger.debug(line, 'request');
  }
}

/** Answers a plain GET endpoint; the handler may await, so the reply is written corked and only if still wanted. */
function servePlain(res: uWS.HttpResponse, handler: PlainHandler): void {
  let isAborted = false;
  res.onAborted(() => {
    isAborted = true;
  });
  const write = (reply: PlainReply): void => {
    if (isAborted) return;
    res.cork(() => {
      res.writeStatus(statusLine(reply.status));
      res.writeHeader('content-type', reply.contentType);
      res.end(reply.body);
    });
  };
  Promise.resolve().then(handler).then(write, (error: unknown) => {
    write({ status: 500, contentType: 'text/plain; charset=utf-8', body: `${error instanceof Error ? error.message : String(error)}\n` });
  });
}

function errorReplyFor(head: RequestHead, error: unknown, log: ErrorLogger = console.error): ApiReply {
  return errorReply(error, { requestId: head.requestId, acceptsJson: acceptsJson(head.headers['accept']), log });
}

/** Sends a body the socket may not take at once, resuming from uWS's write offset on drain. */
function writeWithBackpressure(exchange: Exchange, payload: Buffer): void {
  const { res } = exchange;
  const startOffset = res.getWriteOffset();
  const [isOk, isDone] = res.tryEnd(payload, payload.length);
  if (isOk || isDone) return;
  res.onWritable((offset) => {
    if (exchange.isAborted) return true;
    const [isSent] = res.tryEnd(payload.subarray(offset - startOffset), payload.length);
    return isSent;
  });
}

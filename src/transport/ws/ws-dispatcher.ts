/**
 * Runs one WebSocket request frame end to end, independent of uWS: decode and envelope
 * checks (protocol.ts), the no-auth gate with `authenticate` (zaqar-websocket.md §7.4),
 * pre-signed access (§7.3), then the action's api operation through the same
 * `executeOperation` HTTP uses, and the WebSocket form of its reply or error.
 *
 * `prepare` is synchronous so the session can decode a frame while uWS's buffer is
 * still valid; `run` is the asynchronous rest and never rejects: every request gets
 * exactly one response.
 */
import { randomUUID } from 'node:crypto';
import { BrokerError } from '../../api/errors.js';
import type { JsonValue } from '../../api/json-body.js';
import type { ApiDeps, ApiRequest, Operation } from '../../api/operation.js';
import { operations } from '../../api/operations.js';
import { executeOperation } from '../../api/request-context.js';
import type { ErrorLogger } from '../error-reply.js';
import { actionRoutes, type ActionContext, type ActionRoute, type RouteRequest, type WsReply } from './action-table.js';
import { checkEnvelope, readFrame, response, type Checked, type JsonObject, type WsRequest, type WsResponse } from './protocol.js';
import { notAuthentified, notImplementedReply, wsErrorReply } from './ws-error-reply.js';
import { authenticateEcho, authenticateSocket, gateFrame, type WsAuthState } from './ws-auth.js';
import type { Identity } from '../../api/auth/auth-strategy.js';

/** Actions a pre-signed request may perform (§7.3); the method is the route's. */
const signableActions = new Set(['message_list', 'message_get', 'message_get_many', 'message_post', 'message_delete',
  'message_delete_many']);

/** Frame headers that mean something else to the HTTP-shaped api and are not forwarded. */
const droppedHeaders = new Set(['accept', 'content-type', 'content-length', 'transfer-encoding']);

const operationTable: Readonly<Record<string, Operation>> = operations;

/** What the dispatcher needs from the socket a request came on. */
export interface RequestSocket {
  /** Subscriber URL that pushes to this socket (socket subscriptions, §8); undefined: not offered. */
  readonly subscriberUrl: string | undefined;
  /** The socket's authentication (`auth_strategy = keystone`); absent: only signed frames pass. */
  readonly auth?: WsAuthState;
}

export interface WsDispatcherOptions {
  readonly api: ApiDeps;
  readonly log: ErrorLogger;
}

export class WsDispatcher {
  private readonly context: ActionContext;

  constructor(private readonly options: WsDispatcherOptions) {
    const { broker } = options.api;
    this.context = {
      queueMetadata: async (project, queue) => (await broker.getQueueMetadata({ project, queue })) as JsonObject | null,
    };
  }

  /** Steps 1–4 of §5, synchronously (the frame's memory is only valid during the uWS callback). */
  prepare(data: Uint8Array, isBinary: boolean): Checked<WsRequest> {
    const decoded = readFrame(data, isBinary);
    if (!decoded.ok) return decoded;
    const { value, pythonLengthAtMost, bodyBytes } = decoded.value;
    return checkEnvelope(value, isBinary ? data : undefined, pythonLengthAtMost, bodyBytes);
  }

  /** Steps 5–6: authentication gate and dispatch. Never rejects. */
  async run(request: WsRequest, socket?: RequestSocket): Promise<WsResponse> {
    const auth = this.options.api.auth;
    if (request.action === 'authenticate') {
      if (auth !== undefined) return response(authenticateEcho, await authenticateSocket(auth, request, socket?.auth));
      // No auth strategy: acknowledge, as python-zaqarclient always authenticates first (§7.4).
      const echo = { action: 'authenticate', body: {}, headers: {}, api: 'v2' };
      return response(echo, { status: 200, body: { message: 'Authentified.' } });
    }
    let identity: Identity | undefined;
    if (auth !== undefined) {
      const gate = gateFrame(request, socket?.auth, Object.hasOwn(request.headers, 'URL-Signature'));
      if ('refusal' in gate) return response(request.echo, gate.refusal);
      identity = gate.identity;
    }
    const isSocketSubscription = request.action === 'subscription_create' && typeof request.body['subscriber'] !== 'string';
    if (!isSocketSubscription) return response(request.echo, await this.runAction(request, identity));
    if (socket?.subscriberUrl === undefined || !Object.hasOwn(operationTable, 'subscription_create')) {
      // No way back to this socket (§8 step 2: the reference crashes here; answer 503 instead).
      const queue = String(request.body['queue_name']);
      return response(request.echo, { status: 503, body: { exception: 'Socket subscriptions are not available.',
        error: `Subscription ${queue} could not be created.` } });
    }
    const subscribed: WsRequest = { ...request, body: { ...request.body, subscriber: socket.subscriberUrl } };
    return response(request.echo, await this.runAction(subscribed, identity));
  }

  private async runAction(request: WsRequest, identity: Identity | undefined): Promise<WsReply> {
    const isSigned = Object.hasOwn(request.headers, 'URL-Signature');
    if (isSigned && !signableActions.has(request.action)) return notAuthentified;
    const route = actionRoutes[request.action];
    const operation = route === undefined ? undefined : operationTable[route.operation];
    if (route === undefined || operation === undefined || !Object.hasOwn(operationTable, route.operation)) {
      return notImplementedReply(request.action);
    }
    const requestId = `req-${randomUUID()}`;
    try {
      const base = this.apiRequest(request, route.toRequest(request), requestId);
      const apiRequest = identity === undefined ? base : { ...base, identity };
      const reply = await executeOperation(this.options.api, operation, apiRequest);
      if (route.adapt !== undefined) return await route.adapt(request, reply, this.context);
      return { status: reply.status, body: reply.body ?? {} };
    } catch (error) {
      return this.errorReply(error, route, request, requestId);
    }
  }

  private errorReply(error: unknown, route: ActionRoute, request: WsRequest, requestId: string): WsReply {
    if (error instanceof BrokerError && error.status === 404 && route.notFoundReply !== undefined) return route.notFoundReply;
    const status = error instanceof BrokerError ? error.status : 500;
    const summary = route.errorSummary?.(request, status) ?? null;
    return wsErrorReply(error, { requestId, log: this.options.log, summary });
  }

  private apiRequest(request: WsRequest, parts: RouteRequest, requestId: string): ApiRequest {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      const key = name.toLowerCase();
      if (droppedHeaders.has(key)) continue;
      const text = signedListHeader(key, value);
      if (text !== undefined) headers[key] = text;
    }
    if (parts.sizeBytes !== undefined) headers['content-length'] = String(parts.sizeBytes);
    return { method: parts.method, path: parts.path, params: parts.params, query: parts.query, headers, body: parts.body,
      requestId, ...(parts.bodySize === undefined ? {} : { bodySize: parts.bodySize }) };
  }
}

/**
 * Header values as the api reads them. Over WebSocket `URL-Methods` and `URL-Paths`
 * are JSON arrays (§7.3), over HTTP comma-separated lists: the api verifies the latter.
 */
function signedListHeader(key: string, value: JsonValue | undefined): string | undefined {
  if (key === 'url-methods' || key === 'url-paths') {
    let list: JsonValue | undefined = value;
    if (typeof value === 'string') {
      try {
        list = JSON.parse(value) as JsonValue;
      } catch {
        list = value;
      }
    }
    if (Array.isArray(list)) return list.map((item) => String(item)).join(',');
  }
  return typeof value === 'string' ? value : undefined;
}

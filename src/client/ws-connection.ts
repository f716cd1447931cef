/**
 * One Zaqar WebSocket connection with pipelining and automatic reconnection.
 *
 * Pipelining: many requests may be in flight; each carries a per-connection
 * `X-Request-ID` header, which every Zaqar server echoes in the response's
 * `request.headers`, so answers may come back in any order. A response without the id
 * (the reference omits headers for `authenticate`; decode errors echo nothing) goes to
 * the oldest pending request of the same action, which is exact for servers that answer
 * in order (the reference) and for `authenticate`, which is only sent alone.
 *
 * Reconnection: when the socket closes without `close()` having been called, pending
 * requests fail with ZaqarConnectionError (they may or may not have been applied), and
 * the connection reopens after a Backoff delay; requests issued meanwhile wait (within
 * their timeout) and are sent once the socket is open and the `onOpen` hook (used for
 * `authenticate`) has run. Invariants: `pending.size + waiting.length <= inFlightMax`;
 * every request settles exactly once (answer, timeout, connection loss or close).
 */
import WebSocket from 'ws';
import type { Random } from '../common/random.js';
import type { Json, JsonObject, ReconnectOptions, WsEncoding } from './client-types.js';
import type { Delays } from '../common/timers.js';
import { Backoff } from './backoff.js';
import { decodeFrame, encodeFrame } from './ws-frames.js';
import { ZaqarConnectionError, ZaqarLimitError, ZaqarTimeoutError } from './zaqar-error.js';

export const requestIdHeader = 'X-Request-ID';

export interface WsReply {
  readonly status: number;
  readonly body: Json;
  /** The server's echo of the request. */
  readonly request: JsonObject;
}

export interface WsConnectionOptions {
  readonly url: string;
  readonly encoding: WsEncoding;
  readonly requestTimeoutMs: number;
  readonly inFlightMax: number;
  readonly reconnect: ReconnectOptions;
  readonly delays: Delays;
  readonly random: Random;
  readonly onNotification?: (notification: JsonObject) => void;
  /** Runs after each (re)connect before queued requests go out; `send` bypasses the queue. */
  readonly onOpen?: (send: (action: string, headers: Record<string, string>) => Promise<WsReply>) => Promise<void>;
}

interface PendingRequest {
  readonly id: string;
  readonly action: string;
  readonly frame: string | Buffer;
  readonly resolve: (reply: WsReply) => void;
  readonly reject: (error: Error) => void;
  cancelTimer: () => void;
}

type State = 'connecting' | 'open' | 'waiting' | 'closed';

export class WsConnection {
  private socket: WebSocket | undefined;
  private state: State = 'connecting';
  private readonly pending = new Map<string, PendingRequest>();
  private waiting: PendingRequest[] = [];
  private sequence = 0;
  private readonly backoff: Backoff;
  private cancelReconnect: () => void = () => {};
  private closedPromise: Promise<void> | undefined;

  constructor(private readonly options: WsConnectionOptions) {
    this.backoff = new Backoff(options.reconnect, options.random);
    this.connect();
  }

  /** Sends one action; resolves with the server's reply whatever its status. */
  request(action: string, envelope: { readonly headers: Readonly<Record<string, string>>; readonly body?: JsonObject }):
    Promise<WsReply> {
    return this.enqueue(action, envelope, false);
  }

  /** Number of requests sent or queued and not yet settled. */
  get inFlight(): number {
    return this.pending.size + this.waiting.length;
  }

  /** Closes for good: every unsettled request fails, no reconnection. */
  close(): Promise<void> {
    if (this.closedPromise !== undefined) return this.closedPromise;
    this.state = 'closed';
    this.cancelReconnect();
    this.failAll(this.waiting, new ZaqarConnectionError('connection closed by the client'));
    this.waiting = [];
    const socket = this.socket;
    this.closedPromise = new Promise<void>((resolve) => {
      if (socket === undefined || socket.readyState === WebSocket.CLOSED) return resolve();
      socket.once('close', () => resolve());
      socket.close(1000);
    });
    return this.closedPromise;
  }

  private enqueue(action: string, request: { readonly headers: Readonly<Record<string, string>>; readonly body?: JsonObject },
    isBypass: boolean): Promise<WsReply> {
    const { headers, body } = request;
    if (this.state === 'closed') return Promise.reject(new ZaqarConnectionError('connection is closed'));
    if (this.inFlight >= this.options.inFlightMax) {
      return Promise.reject(new ZaqarLimitError(`more than ${this.options.inFlightMax} requests in flight`));
    }
    this.sequence += 1;
    const id = String(this.sequence);
    const envelope: Record<string, Json> = { action, headers: { ...headers, [requestIdHeader]: id } };
    if (body !== undefined) envelope['body'] = body;
    const frame = encodeFrame(envelope, this.options.encoding);
    return new Promise<WsReply>((resolve, reject) => {
      const entry: PendingRequest = { id, action, frame, resolve, reject, cancelTimer: () => {} };
      entry.cancelTimer = this.options.delays.after(this.options.requestTimeoutMs, () => this.expire(entry));
      if (this.state === 'open' || isBypass) this.transmit(entry);
      else this.waiting.push(entry);
    });
  }

  private transmit(entry: PendingRequest): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      this.waiting.push(entry);
      return;
    }
    this.pending.set(entry.id, entry);
    socket.send(entry.frame);
  }

  private expire(entry: PendingRequest): void {
    const wasPending = this.pending.delete(entry.id);
    const index = this.waiting.indexOf(entry);
    if (index >= 0) this.waiting.splice(index, 1);
    if (wasPending || index >= 0) {
      entry.reject(new ZaqarTimeoutError(`${entry.action}: no answer within ${this.options.requestTimeoutMs} ms`));
    }
  }

  private connect(): void {
    this.state = 'connecting';
    const socket = new WebSocket(this.options.url, { perMessageDeflate: false });
    this.socket = socket;
    socket.on('open', () => this.onSocketOpen(socket));
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    socket.on('error', () => {
      // 'close' always follows 'error'; recovery happens there.
    });
    socket.on('close', () => this.onSocketClose(socket));
  }

  private onSocketOpen(socket: WebSocket): void {
    const hook = this.options.onOpen;
    const ready = hook === undefined
      ? Promise.resolve()
      : hook((action, headers) => this.enqueue(action, { headers }, true));
    ready.then(() => {
      if (this.socket !== socket || socket.readyState !== WebSocket.OPEN || this.state === 'closed') return;
      this.state = 'open';
      this.backoff.reset();
      const queued = this.waiting;
      this.waiting = [];
      for (const entry of queued) this.transmit(entry);
    }, () => {
      // A refused `authenticate` leaves the socket useless: drop it and retry later.
      if (this.socket === socket) socket.terminate();
    }).catch(() => {
      // Neither handler throws; this keeps the chain from floating.
    });
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    let document: unknown;
    try {
      document = decodeFrame(data, isBinary);
    } catch {
      return; // Not a frame this client can read; the matching request will time out.
    }
    if (!isRecord(document)) return;
    const headers = document['headers'];
    const request = document['request'];
    if (!isRecord(headers) || !isRecord(request) || typeof headers['status'] !== 'number') {
      this.options.onNotification?.(document as JsonObject);
      return;
    }
    const entry = this.matchPending(request);
    if (entry === undefined) return;
    this.pending.delete(entry.id);
    entry.cancelTimer();
    entry.resolve({ status: headers['status'], body: (document['body'] ?? null) as Json, request: request as JsonObject });
  }

  private matchPending(request: Record<string, unknown>): PendingRequest | undefined {
    const echoed = request['headers'];
    const id = isRecord(echoed) ? echoed[requestIdHeader] : undefined;
    if (typeof id === 'string') return this.pending.get(id);
    let oldest: PendingRequest | undefined;
    for (const entry of this.pending.values()) {
      if (entry.action === request['action']) return entry;
      oldest ??= entry;
    }
    return oldest;
  }

  private onSocketClose(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.failAll(lost, new ZaqarConnectionError('connection lost before the answer arrived'));
    if (this.state === 'closed') return;
    const delayMs = this.backoff.nextDelayMs();
    if (delayMs === undefined) {
      this.state = 'closed';
      this.failAll(this.waiting, new ZaqarConnectionError('could not reconnect'));
      this.waiting = [];
      return;
    }
    this.state = 'waiting';
    this.cancelReconnect = this.options.delays.after(delayMs, () => {
      if (this.state === 'waiting') this.connect();
    });
  }

  private failAll(entries: readonly PendingRequest[], error: Error): void {
    for (const entry of entries) {
      entry.cancelTimer();
      entry.reject(error);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The forwarding service over gRPC, msgpack-encoded (no codegen, commands and results
 * are already msgpack-safe records). Two unary methods: `Propose` carries one
 * ForwardRequest to the node that leads the shard and its ForwardReply back;
 * `ProposeBatch` carries many (ForwardBatcher coalesces them) and answers each item on
 * its own, with its reply or the error serving it raised.
 *
 * GrpcForwarder keeps one client (one HTTP/2 channel) per peer, created on first use;
 * every call has a deadline so a partitioned or dead peer costs a bounded wait. A failed
 * call rejects with PeerUnreachableError only when the request was certainly never sent
 * (the router retries those); any other failure leaves the outcome unknown, for every
 * item of a batch alike. Commands and queries go in batches; the rare, slow requests
 * (membership changes, describe, release, bootstrap) keep a call of their own.
 *
 * Commands and queries to a peer go on its forwarding stream once that is open
 * (forward-stream.ts: no call per batch, each item answered as it completes); the unary
 * batch is the way while the stream is opening, full, or failed (reopened after
 * `streamRetryMs`).
 *
 * Rolling upgrades: every method stays served. A peer that answers a batch UNIMPLEMENTED
 * (an older version: it served none of it) gets the batch's items again one call each,
 * and only single calls for `legacyRecheckMs`, after which a batch is tried again; a
 * peer that does not serve the stream gets batches, and the stream is asked for again
 * after `legacyRecheckMs`.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import type { NodeId } from '../../common/ids.js';
import type { ForwardReply, ForwardRequest, Forwarder } from '../forward-protocol.js';
import { PeerUnreachableError } from '../routing-errors.js';
import { ForwardBatcher, type PendingForward } from './forward-batcher.js';
import { ForwardStream, forwardStreamMethod, serveForwardStream, type ForwardItemReply } from './forward-stream.js';
import { fromWire, isWireForwardRequest, toWire } from './forward-wire.js';
import { callUnary, msgpackUnaryMethod, serveUnary, unaryClient } from './msgpack-unary.js';

const forwardPath = '/zaqar.cluster.Forward/Propose';
const forwardBatchPath = '/zaqar.cluster.Forward/ProposeBatch';
const messageBytesMax = 64 * 1024 * 1024;
/** The most items a served batch may hold (a sender cuts its batches far below). */
const batchItemsMax = 4096;
/** How long a peer that did not know the batch method gets single calls before it is asked again. */
const legacyRecheckMs = 60_000;
/** An item whose own deadline comes this much before its batch call's gets a timer of its own. */
const itemDeadlineSlackMs = 100;
/** Forwarded items awaiting their answers on one peer's stream at most (beyond: unary batches). */
const streamItemsInFlightMax = 8192;
/** How long after a peer's stream failed its forwards go as unary batches before the stream is opened again. */
const streamRetryMs = 1_000;

/** A batch on the wire: `requests` are checked one by one (a malformed item fails alone). */
interface ForwardBatch {
  readonly requests: readonly unknown[];
}

interface ForwardBatchReply {
  readonly replies: readonly ForwardItemReply[];
}

export const forwardServiceDefinition = {
  propose: msgpackUnaryMethod<ForwardReply>(forwardPath),
  proposeBatch: msgpackUnaryMethod<ForwardBatchReply>(forwardBatchPath),
  proposeStream: forwardStreamMethod,
};

export type ForwardHandler = (request: ForwardRequest) => Promise<ForwardReply>;

/** The service implementation to register on a gRPC server. */
export function forwardServiceImplementation(handler: ForwardHandler): grpc.UntypedServiceImplementation {
  return {
    propose: serveUnary({ isRequest: isWireForwardRequest, what: 'forward request' }, (request) => handler(fromWire(request))),
    proposeBatch: serveUnary({ isRequest: isForwardBatch, what: 'forward batch' }, (batch) => serveBatch(batch, handler)),
    proposeStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      serveForwardStream(call, { itemsMax: batchItemsMax, serveItem: (request) => serveItem(request, handler) });
    },
  };
}

/** Starts every item in this turn (the leader proposes them together) and answers each on its own. */
async function serveBatch(batch: ForwardBatch, handler: ForwardHandler): Promise<ForwardBatchReply> {
  const replies = await Promise.all(batch.requests.map((request) => serveItem(request, handler)));
  return { replies };
}

/** One item of a batch or stream: its reply, or the message of the error serving it raised (never rejects). */
function serveItem(request: unknown, handler: ForwardHandler): Promise<ForwardItemReply> {
  if (!isWireForwardRequest(request)) return Promise.resolve({ error: 'malformed forward request' });
  return handler(fromWire(request)).then(
    (reply) => ({ reply }),
    (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
  );
}

function isForwardBatch(value: unknown): value is ForwardBatch {
  if (typeof value !== 'object' || value === null) return false;
  const { requests } = value as Record<string, unknown>;
  return Array.isArray(requests) && requests.length <= batchItemsMax;
}

function isBatchReply(value: unknown, itemCount: number): value is ForwardBatchReply {
  if (typeof value !== 'object' || value === null) return false;
  const { replies } = value as Record<string, unknown>;
  return Array.isArray(replies) && replies.length === itemCount
    && replies.every((item: unknown) => typeof item === 'object' && item !== null && ('reply' in item || 'error' in item));
}

export class GrpcForwarder implements Forwarder {
  private readonly clients = new Map<NodeId, grpc.Client>();
  private readonly batchers = new Map<NodeId, ForwardBatcher>();
  private readonly streams = new Map<NodeId, ForwardStream>();
  /** Peers whose stream failed (or that do not serve it), and when it may be opened again. */
  private readonly streamRetryAtMs = new Map<NodeId, number>();
  /** Peers that answered a batch UNIMPLEMENTED, and until when they get single calls. */
  private readonly legacyUntilMs = new Map<NodeId, number>();

  private readonly clock: Clock;
  private readonly credentials: grpc.ChannelCredentials;

  /**
   * `addresses`: each peer's forwarding address (host:port); read on every call, so it may change.
   * `credentials`: the cluster's mutual TLS (raft/grpc/peer-tls.ts); plaintext when absent.
   */
  constructor(
    private readonly addresses: ReadonlyMap<NodeId, string>,
    options: { readonly clock: Clock; readonly credentials?: grpc.ChannelCredentials },
  ) {
    this.clock = options.clock;
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
  }

  forward(to: NodeId, request: ForwardRequest, options: { deadlineMs: number }): Promise<ForwardReply> {
    const deadlineAtMs = this.clock.nowMs() + options.deadlineMs;
    if (!isBatchable(request) || this.isLegacy(to)) return this.forwardOne(to, request, deadlineAtMs);
    let batcher = this.batchers.get(to);
    if (batcher === undefined) {
      batcher = new ForwardBatcher((batch) => this.sendBatch(to, batch));
      this.batchers.set(to, batcher);
    }
    return batcher.add(request, deadlineAtMs);
  }

  private forwardOne(to: NodeId, request: ForwardRequest, deadlineAtMs: number): Promise<ForwardReply> {
    const client = this.client(to);
    if (client === undefined) return Promise.reject(new PeerUnreachableError(to, `no address for node ${to}`));
    return callUnary(client, forwardPath, toWire(request), { deadlineAtMs }).then(
      (reply) => {
        if (reply === undefined) throw lostAfterSent(to, new Error('empty reply'));
        return reply as ForwardReply;
      },
      (error: unknown) => {
        throw this.failure(to, error);
      },
    );
  }

  /** Sends one batch and settles each of its items. */
  private sendBatch(to: NodeId, batch: readonly PendingForward[]): void {
    const client = this.client(to);
    if (client === undefined) {
      for (const item of batch) item.reject(new PeerUnreachableError(to, `no address for node ${to}`));
      return;
    }
    const nowMs = this.clock.nowMs();
    const stream = this.stream(to, client, nowMs);
    if (stream?.canTake(batch.length) === true) {
      stream.send(batch.map((item) => withOwnDeadline(to, item, { nowMs, callDeadlineAtMs: Infinity })));
      return;
    }
    const callDeadlineAtMs = Math.max(...batch.map((item) => item.deadlineAtMs));
    const items = batch.map((item) => withOwnDeadline(to, item, { nowMs, callDeadlineAtMs }));
    callUnary(client, forwardBatchPath, { requests: batch.map((item) => toWire(item.request)) }, { deadlineAtMs: callDeadlineAtMs }).then(
      (reply) => {
        if (!isBatchReply(reply, items.length)) {
          const failure = lostAfterSent(to, new Error('malformed batch reply'));
          for (const item of items) item.reject(failure);
          return;
        }
        items.forEach((item, i) => {
          const answer = reply.replies[i];
          if (answer !== undefined && 'reply' in answer) item.resolve(answer.reply);
          else item.reject(lostAfterSent(to, new Error(answer?.error ?? 'no answer')));
        });
      },
      (error: unknown) => {
        if ((error as Partial<grpc.ServiceError>).code === grpc.status.UNIMPLEMENTED) {
          // An older peer served none of it: each item again, on the method it knows.
          this.legacyUntilMs.set(to, this.clock.nowMs() + legacyRecheckMs);
          for (const item of items) this.forwardOne(to, item.request, item.deadlineAtMs).then(item.resolve, item.reject);
          return;
        }
        const failure = this.failure(to, error);
        for (const item of items) item.reject(failure);
      },
    );
  }

  /** The peer's forwarding stream, opened on first use and again `streamRetryMs` after it failed. */
  private stream(to: NodeId, client: grpc.Client, nowMs: number): ForwardStream | undefined {
    const existing = this.streams.get(to);
    if (existing !== undefined) return existing;
    if (nowMs < (this.streamRetryAtMs.get(to) ?? 0)) return undefined;
    const stream: ForwardStream = new ForwardStream({
      client,
      itemsInFlightMax: streamItemsInFlightMax,
      lost: (cause) => lostAfterSent(to, cause),
      onEnd: (isUnimplemented) => {
        if (this.streams.get(to) !== stream) return;
        this.streams.delete(to);
        this.streamRetryAtMs.set(to, this.clock.nowMs() + (isUnimplemented ? legacyRecheckMs : streamRetryMs));
      },
    });
    this.streams.set(to, stream);
    return stream;
  }

  private isLegacy(to: NodeId): boolean {
    const untilMs = this.legacyUntilMs.get(to);
    if (untilMs === undefined) return false;
    if (this.clock.nowMs() < untilMs) return true;
    this.legacyUntilMs.delete(to);
    return false;
  }

  /** Never sent (safe to retry) or lost after it was sent (outcome unknown). */
  private failure(to: NodeId, error: unknown): Error {
    if (isNeverSent(error)) return new PeerUnreachableError(to, `node ${to} unreachable`, { cause: error });
    return lostAfterSent(to, error);
  }

  private client(to: NodeId): grpc.Client | undefined {
    const existing = this.clients.get(to);
    if (existing !== undefined) return existing;
    const address = this.addresses.get(to);
    if (address === undefined) return undefined;
    const client = unaryClient(address, { credentials: this.credentials, messageBytesMax });
    this.clients.set(to, client);
    return client;
  }

  /** Drops the client of a peer whose address changed or that was removed; the next call dials anew. */
  forget(to: NodeId): void {
    this.streams.get(to)?.close();
    this.streams.delete(to);
    this.streamRetryAtMs.delete(to);
    this.clients.get(to)?.close();
    this.clients.delete(to);
    this.legacyUntilMs.delete(to);
  }

  close(): void {
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Commands and queries: the frequent, quick requests. */
function isBatchable(request: ForwardRequest): boolean {
  return request.kind === 'command' || request.kind === 'query';
}

/**
 * The call's deadline is its latest item's; an item due well before it stops waiting on
 * its own timer, its outcome unknown (the peer may still serve it).
 */
function withOwnDeadline(to: NodeId, item: PendingForward, at: { readonly nowMs: number; readonly callDeadlineAtMs: number }): PendingForward {
  if (at.callDeadlineAtMs - item.deadlineAtMs < itemDeadlineSlackMs) return item;
  const waitMs = item.deadlineAtMs - at.nowMs;
  let isSettled = false;
  const timer = setTimeout(() => settle(() => item.reject(lostAfterSent(to, new Error('deadline exceeded')))), Math.max(waitMs, 0));
  const settle = (action: () => void): void => {
    if (isSettled) return;
    isSettled = true;
    clearTimeout(timer);
    action();
  };
  return { ...item, resolve: (reply) => settle(() => item.resolve(reply)), reject: (error) => settle(() => item.reject(error)) };
}

/**
 * Whether a failed call certainly never reached the peer: grpc-js fails a call that found
 * no connection to use (the channel's pick failed: refused, unresolvable, backing off)
 * with UNAVAILABLE "No connection established…" before writing anything. Any other
 * failure (a connection dropped mid-call, a deadline, a peer error) may come after the
 * peer received the request, so the caller must treat its outcome as unknown.
 */
function isNeverSent(error: unknown): boolean {
  const { code, details } = error as Partial<grpc.ServiceError>;
  return code === grpc.status.UNAVAILABLE && typeof details === 'string' && details.startsWith('No connection established');
}

/** A forward that was sent and then lost: the peer may have served it (outcome unknown). */
function lostAfterSent(to: NodeId, cause: unknown): Error {
  return new Error(`forward to node ${to} failed`, { cause });
}

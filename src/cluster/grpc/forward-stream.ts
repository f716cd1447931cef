/**
 * The forwarding stream: one long-lived bidirectional gRPC stream per peer carrying
 * forwarded commands and queries, answered item by item as each completes.
 *
 * A unary call pays its setup on every batch, and its answer costs the peer two writes
 * (the message, then, once that write completed, the status trailers) before the caller
 * hears it. Measured on an idle 3-node cluster, a post through a follower spent ~1.1 ms
 * from its forward's call to the leader's handler and ~3.5 ms from the handler's answer
 * back to the caller, where a Raft message takes ~0.8 ms one way on its stream. On the
 * stream an item is one entry of a frame each way.
 *
 * Wire (msgpack, one gRPC message per frame): the caller sends `{ items: [{ id, request }] }`;
 * the server first sends `{ ready: true }`, then `{ answers: [{ id, reply } | { id, error }] }`,
 * every answer completed in one event-loop turn in one frame.
 *
 * Invariants: an item is written only after the server's `ready` (an older peer that does
 * not serve the method answers UNIMPLEMENTED without ever seeing an item), so every item
 * on the stream may have reached the peer: when the stream ends, each one still in flight
 * fails with its outcome unknown, never as "unreachable". Items in flight are bounded
 * (`itemsInFlightMax`); a batch that does not fit, or finds the stream not open, is left
 * to the caller (the unary path). Deadlines are the caller's: an item carries its own.
 */
import * as grpc from '@grpc/grpc-js';
import type { ForwardReply } from '../forward-protocol.js';
import type { PendingForward } from './forward-batcher.js';
import { toWire } from './forward-wire.js';
import { decode, encode } from './msgpack-unary.js';

export const forwardStreamPath = '/zaqar.cluster.Forward/ProposeStream';

/** Each item's answer: the reply, or the message of the error serving it raised. */
export type ForwardItemReply = { readonly reply: ForwardReply } | { readonly error: string };

interface ItemsFrame {
  readonly items: readonly { readonly id: number; readonly request: unknown }[];
}

type AnswersFrame = { readonly ready: true } | { readonly answers: readonly Answer[] };

type Answer = { readonly id: number } & ForwardItemReply;

export const forwardStreamMethod: grpc.MethodDefinition<unknown, unknown> = {
  path: forwardStreamPath,
  requestStream: true,
  responseStream: true,
  requestSerialize: encode,
  requestDeserialize: decode,
  responseSerialize: encode,
  responseDeserialize: decode,
};

/**
 * Serves one caller's stream: `serveItem` answers one item (it never rejects). A frame
 * that is not a list of at most `itemsMax` items ends the stream (the caller's items in
 * flight then fail as outcome unknown).
 */
export function serveForwardStream(
  call: grpc.ServerDuplexStream<unknown, unknown>,
  options: { readonly itemsMax: number; readonly serveItem: (request: unknown) => Promise<ForwardItemReply> },
): void {
  let answers: Answer[] = [];
  let isFlushScheduled = false;
  let isEnded = false;
  const flush = (): void => {
    isFlushScheduled = false;
    if (isEnded || answers.length === 0) return;
    const frame: AnswersFrame = { answers };
    answers = [];
    call.write(frame);
  };
  const answer = (item: Answer): void => {
    if (isEnded) return;
    answers.push(item);
    if (isFlushScheduled) return;
    isFlushScheduled = true;
    // After this turn's promise chains: every item one applied round answered shares a frame.
    setImmediate(flush);
  };
  const end = (): void => {
    if (isEnded) return;
    isEnded = true;
    call.end();
  };
  call.on('data', (frame: unknown) => {
    if (!isItemsFrame(frame, options.itemsMax)) {
      end();
      return;
    }
    for (const { id, request } of frame.items) {
      void options.serveItem(request).then((reply) => answer({ id, ...reply }));
    }
  });
  call.on('end', end);
  call.on('error', () => {
    isEnded = true;
  });
  call.on('cancelled', () => {
    isEnded = true;
  });
  call.write({ ready: true } satisfies AnswersFrame);
}

function isItemsFrame(value: unknown, itemsMax: number): value is ItemsFrame {
  if (typeof value !== 'object' || value === null) return false;
  const { items } = value as Record<string, unknown>;
  return Array.isArray(items) && items.length <= itemsMax
    && items.every((item: unknown) => typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'number');
}

function isAnswer(value: unknown): value is Answer {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return typeof item['id'] === 'number' && ('reply' in item || typeof item['error'] === 'string');
}

export interface ForwardStreamOptions {
  /** The peer's channel (shared with its unary calls). */
  readonly client: grpc.Client;
  readonly itemsInFlightMax: number;
  /** The failure of an item whose outcome is unknown (it may have been served). */
  readonly lost: (cause: Error) => Error;
  /** The stream ended; `isUnimplemented`: the peer does not serve it (an older version). */
  readonly onEnd: (isUnimplemented: boolean) => void;
}

/** The calling side of the stream to one peer. */
export class ForwardStream {
  private readonly call: grpc.ClientDuplexStream<unknown, unknown>;
  private isOpen = false;
  private isEnded = false;
  private nextId = 1;
  private readonly inFlight = new Map<number, PendingForward>();

  constructor(private readonly options: ForwardStreamOptions) {
    this.call = options.client.makeBidiStreamRequest(forwardStreamPath, encode, decode, new grpc.Metadata(), {});
    this.call.on('data', (frame: unknown) => this.receive(frame));
    // Failures arrive as both 'error' and 'status'; 'status' comes exactly once per call.
    this.call.on('error', () => {});
    this.call.on('status', (status: grpc.StatusObject) => this.ended(status));
  }

  /** Items of this stream awaiting their answers. */
  get itemsInFlight(): number {
    return this.inFlight.size;
  }

  /** Whether `count` more items may be sent now (the stream is open, the bound not reached). */
  canTake(count: number): boolean {
    return this.isOpen && this.inFlight.size + count <= this.options.itemsInFlightMax;
  }

  /** Writes the batch's items (canTake said yes); each is settled by its answer or the stream's end. */
  send(batch: readonly PendingForward[]): void {
    const items = batch.map((item) => {
      const id = this.nextId++;
      this.inFlight.set(id, item);
      return { id, request: toWire(item.request) };
    });
    this.call.write({ items } satisfies ItemsFrame);
  }

  /** Ends the stream; items in flight fail as outcome unknown. */
  close(): void {
    this.call.cancel();
  }

  private receive(frame: unknown): void {
    if (typeof frame !== 'object' || frame === null) return;
    if ('ready' in frame) {
      this.isOpen = !this.isEnded;
      return;
    }
    const { answers } = frame as { answers?: unknown };
    if (!Array.isArray(answers)) return;
    for (const answer of answers) {
      if (!isAnswer(answer)) continue;
      const item = this.inFlight.get(answer.id);
      if (item === undefined) continue;
      this.inFlight.delete(answer.id);
      if ('reply' in answer) item.resolve(answer.reply);
      else item.reject(this.options.lost(new Error(answer.error)));
    }
  }

  private ended(status: grpc.StatusObject): void {
    this.isOpen = false;
    this.isEnded = true;
    const failure = this.options.lost(new Error(`forward stream ended: ${status.details}`));
    const items = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const item of items) item.reject(failure);
    this.options.onEnd(status.code === grpc.status.UNIMPLEMENTED);
  }
}

/**
 * PeerLink: the outgoing side of the one stream between this node and one peer. Holds
 * the bounded queue of encoded messages for that peer and writes everything queued in
 * one event-loop turn as one frame (several if it exceeds `frameBytesMax`).
 *
 * Invariants: the queue never holds more than `queueMessagesMax` messages or
 * `queueBytesMax` bytes: when full, the oldest message is dropped (Raft retransmits, and
 * the newest messages carry the freshest state). Nothing is written while the stream
 * reports back-pressure (write() returned false) until it drains. A link without a
 * stream keeps queueing (bounded) until a stream is attached.
 */
import { assert } from '../../common/assert.js';
import type { Frame } from './frame-codec.js';

/** The writable half of a client or server gRPC duplex stream. */
export interface FrameStream {
  write(frame: Frame): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): void;
}

export interface PeerLinkLimits {
  readonly queueMessagesMax: number;
  readonly queueBytesMax: number;
  readonly frameBytesMax: number;
}

export interface PeerLinkCounters {
  messagesSent: number;
  framesSent: number;
  messagesDropped: number;
}

export class PeerLink {
  readonly counters: PeerLinkCounters = { messagesSent: 0, framesSent: 0, messagesDropped: 0 };
  private queue: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;
  private stream: FrameStream | undefined;
  private isWaitingForDrain = false;
  private isFlushScheduled = false;

  constructor(private readonly limits: PeerLinkLimits) {
    assert(limits.queueMessagesMax > 0 && limits.queueBytesMax > 0, 'peer queue bounds must be positive');
  }

  get queuedMessages(): number {
    return this.queue.length - this.head;
  }

  get isConnected(): boolean {
    return this.stream !== undefined;
  }

  enqueue(encoded: Buffer): void {
    while (
      this.queuedMessages > 0 &&
      (this.queuedMessages >= this.limits.queueMessagesMax || this.queuedBytes + encoded.length > this.limits.queueBytesMax)
    ) {
      this.dropOldest();
    }
    this.queue.push(encoded);
    this.queuedBytes += encoded.length;
    this.scheduleFlush();
  }

  /** Makes `stream` the link's stream (ending a previous one) and sends what is queued. */
  attach(stream: FrameStream): void {
    const previous = this.stream;
    this.stream = stream;
    this.isWaitingForDrain = false;
    if (previous !== undefined && previous !== stream) previous.end();
    this.scheduleFlush();
  }

  /** Forgets `stream` if it is the link's stream (it ended or failed). */
  detach(stream: FrameStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.isWaitingForDrain = false;
  }

  close(): void {
    this.stream?.end();
    this.stream = undefined;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    // After this turn's microtasks and I/O callbacks: all groups' sends share a frame.
    setImmediate(() => {
      this.isFlushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const stream = this.stream;
    while (stream !== undefined && !this.isWaitingForDrain && this.queuedMessages > 0) {
      const frame = this.takeFrame();
      this.counters.framesSent += 1;
      this.counters.messagesSent += frame.length;
      if (stream.write(frame)) continue;
      this.isWaitingForDrain = true;
      stream.once('drain', () => {
        if (this.stream !== stream) return;
        this.isWaitingForDrain = false;
        this.flush();
      });
    }
  }

  private takeFrame(): Buffer[] {
    const frame: Buffer[] = [];
    let bytes = 0;
    while (this.queuedMessages > 0) {
      const next = this.queue[this.head];
      assert(next !== undefined, 'queue slot within bounds');
      if (frame.length > 0 && bytes + next.length > this.limits.frameBytesMax) break;
      frame.push(next);
      bytes += next.length;
      this.shift(next);
    }
    return frame;
  }

  private dropOldest(): void {
    const oldest = this.queue[this.head];
    assert(oldest !== undefined, 'queue slot within bounds');
    this.shift(oldest);
    this.counters.messagesDropped += 1;
  }

  private shift(removed: Buffer): void {
    this.head += 1;
    this.queuedBytes -= removed.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

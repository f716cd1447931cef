/**
 * ForwardBatcher: coalesces the forwards to one peer. Every forward issued in the same
 * event-loop turn (a burst of producer requests answered by one read barrier, one
 * applied round) waits for the end of that turn and then travels with the others in
 * one call, so a loaded follower pays the call's setup (grpc-js call, metadata, HTTP/2
 * stream, and the same on the serving side) once per batch instead of once per request.
 * The serving side starts every item at once, so the leader proposes them together.
 *
 * Each item keeps its own answer and its own failure: the batch's sender settles every
 * item (ForwardReply, PeerUnreachableError when the batch was never sent, or an
 * outcome-unknown Error). A batch is cut at `itemsMax` items or `bytesMax` command
 * bytes, well below the channel's message bound.
 */
import { atTurnEnd } from '../../common/turn-end.js';
import type { ForwardReply, ForwardRequest } from '../forward-protocol.js';

export interface PendingForward {
  readonly request: ForwardRequest;
  /** Wall-clock time (ms) after which the item's caller stops waiting. */
  readonly deadlineAtMs: number;
  readonly resolve: (reply: ForwardReply) => void;
  readonly reject: (error: Error) => void;
}

const itemsMax = 256;
const bytesMax = 4 * 1024 * 1024;

export class ForwardBatcher {
  private pending: PendingForward[] = [];
  private pendingBytes = 0;
  private isFlushScheduled = false;

  /** `send` takes a batch and must settle every item of it. */
  constructor(private readonly send: (batch: readonly PendingForward[]) => void) {}

  add(request: ForwardRequest, deadlineAtMs: number): Promise<ForwardReply> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, deadlineAtMs, resolve, reject });
      this.pendingBytes += request.kind === 'command' ? request.command.byteLength : 0;
      if (this.pending.length >= itemsMax || this.pendingBytes >= bytesMax) {
        this.flush();
      } else if (!this.isFlushScheduled) {
        this.isFlushScheduled = true;
        // After the turn's I/O callbacks and their promise chains (and the coalescers' flushes): the whole burst goes together.
        atTurnEnd(() => {
          this.isFlushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.send(batch);
  }
}

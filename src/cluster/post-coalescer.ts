/**
 * PostCoalescer: posts of one client to one queue (same project, queue, Client-ID and
 * expected metadata) read in the same event-loop turn go to the shard as one post
 * command, in arrival order, instead of one command each. Every command costs each
 * replica a Raft entry, a dedup record, a proposal and an apply of its own, whatever it
 * carries; a producer that pipelines its posts on a socket (one read brings many) pays
 * that per request otherwise.
 *
 * A post waits only for the end of the turn that read it (`afterTurn`, common/turn-end.ts: the
 * check phase right after the turn's I/O, before the next poll), so a post alone in its
 * turn goes as it did, a few microseconds later (the Raft host loop is woken by a promise,
 * not by a later turn). A command carries at most `requestsMax` requests (it stays within
 * a few post-size limits); beyond, the turn's posts go as several commands. The command is an ordinary
 * post, which replicas of any version apply: its messages get consecutive seqs in arrival
 * order and each request gets the ids of its own, as if it had been posted alone right
 * after the one before it. Requests in one command share its outcome: applied together,
 * or failed together with the same error.
 */
import { atTurnEnd } from '../common/turn-end.js';

export interface CoalescedPost<M> {
  readonly clientId: string;
  readonly messages: readonly M[];
}

export interface PostOutcome {
  readonly ids: string[];
  readonly isMetadataStale: boolean;
}

interface Waiting<M> {
  readonly messages: readonly M[];
  readonly resolve: (outcome: PostOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane<R, M, E> {
  readonly ref: R;
  readonly clientId: string;
  readonly expected: E | undefined;
  readonly waiting: Waiting<M>[];
}

export class PostCoalescer<R, M, E> {
  /** The lanes with posts waiting for the end of this turn. */
  private readonly lanes = new Map<string, Lane<R, M, E>>();

  constructor(
    /** Proposes one post command and answers its ids in message order. */
    private readonly send: (ref: R, request: CoalescedPost<M>, expected: E | undefined) => Promise<PostOutcome>,
    private readonly laneOf: (ref: R, clientId: string, expected: E | undefined) => string,
    private readonly requestsMax = 16,
    /** Runs `flush` once the current event-loop turn's I/O is handled (every post read in it has arrived). */
    private readonly afterTurn: (flush: () => void) => void = atTurnEnd,
  ) {}

  post(ref: R, request: CoalescedPost<M>, expected?: E): Promise<PostOutcome> {
    const key = this.laneOf(ref, request.clientId, expected);
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      const opened: Lane<R, M, E> = { ref, clientId: request.clientId, expected, waiting: [] };
      lane = opened;
      this.lanes.set(key, opened);
      this.afterTurn(() => {
        this.lanes.delete(key);
        for (let at = 0; at < opened.waiting.length; at += this.requestsMax) {
          this.sendBatch(opened, opened.waiting.slice(at, at + this.requestsMax));
        }
      });
    }
    const waiting = lane.waiting;
    return new Promise<PostOutcome>((resolve, reject) => {
      waiting.push({ messages: request.messages, resolve, reject });
    });
  }

  private sendBatch(lane: Lane<R, M, E>, batch: readonly Waiting<M>[]): void {
    const messages = batch.length === 1 ? (batch[0]?.messages ?? []) : batch.flatMap((waiting) => waiting.messages);
    this.send(lane.ref, { clientId: lane.clientId, messages }, lane.expected).then(
      ({ ids, isMetadataStale }) => {
        let at = 0;
        for (const waiting of batch) {
          waiting.resolve({ ids: ids.slice(at, at + waiting.messages.length), isMetadataStale });
          at += waiting.messages.length;
        }
      },
      (error: unknown) => {
        for (const waiting of batch) waiting.reject(error);
      },
    );
  }
}

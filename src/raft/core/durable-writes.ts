/**
 * What a RaftCore with asynchronous storage writes knows of its own storage: the Readys
 * handed out and not yet reported durable, oldest first, and the term and vote as last
 * reported durable. It decides which of a Ready's messages may leave before the Ready's
 * write: none while the term or vote is not durable (a crash could take them back), and
 * otherwise all but the answers that vouch for durable state (append and vote answers).
 *
 * Invariant: Readys are reported persisted in the order they were taken.
 */
import { assert } from '../../common/assert.js';
import type { HardState, NodeId, Term } from '../types.js';
import { type Message, MessageType } from './messages.js';
import type { Ready } from './ready.js';

export class DurableWrites {
  private readonly persisting: Ready[] = [];
  term: Term;
  vote: NodeId | 0;

  constructor(hardState: HardState) {
    this.term = hardState.term;
    this.vote = hardState.vote;
  }

  /** Readys taken and not yet reported persisted. */
  get outstanding(): number {
    return this.persisting.length;
  }

  taken(ready: Ready): void {
    this.persisting.push(ready);
  }

  /** `ready` (the oldest outstanding) is durable, and its hard state with it. */
  persisted(ready: Ready): void {
    assert(this.persisting[0] === ready, 'persisted() out of order');
    this.persisting.shift();
    if (ready.hardState === undefined) return;
    this.term = ready.hardState.term;
    this.vote = ready.hardState.vote;
  }

  /** Splits `messages` (sent with `hardState` current) into those that may leave now and those after the write. */
  split(messages: Message[], hardState: HardState): [Message[], Message[]] {
    if (hardState.term !== this.term || hardState.vote !== this.vote) return [[], messages];
    const now: Message[] = [];
    const after: Message[] = [];
    for (const m of messages) (needsDurability(m.type) ? after : now).push(m);
    return [now, after];
  }
}

/** Answers that vouch for durable state: sent only after the persist that covers them. */
function needsDurability(type: MessageType): boolean {
  return type === MessageType.AppResp || type === MessageType.VoteResp || type === MessageType.PreVoteResp;
}

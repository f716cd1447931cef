/**
 * Which shard commands the FSM must apply at most once, and the key it recognises a
 * repeat by. A command is proposed again when its first proposal's outcome is unknown
 * (a forward whose reply was lost, a commit wait that timed out; routed-shard-log.ts),
 * so both proposals may commit, possibly with other commands between them.
 *
 * A command is idempotent here when applying it a second time, after anything else,
 * leaves the state and the answer its proposer gets as they would be after one apply.
 * Per type:
 *  - post: not idempotent (stores the messages again: two messages with one id, which
 *    two claims could then hold). Key: its first message id, minted once by the proposer.
 *  - claim: not idempotent (claims more messages under the same claim id). Key: claimId.
 *  - pop: not idempotent (removes more messages; the first result would be lost). Key:
 *    commandId.
 *  - createQueue: not idempotent (recreates a queue deleted in between; answers
 *    "existed" instead of "created"). Key: commandId.
 *  - setMetadata: not idempotent (overwrites a newer replacement made in between). Key:
 *    commandId.
 *  - deleteQueue, purge: not idempotent (remove what was posted in between). Key:
 *    commandId.
 *  - deleteMessage, deleteMessages: the state is idempotent (message ids are never
 *    reused) but the answer is not (a repeat finds the message gone). Key: commandId.
 *  - renew: not idempotent (extends from a later time; answers "not renewed" if the
 *    claim lapsed in between). Key: commandId.
 *  - release: the state is idempotent, the answer is not. Key: commandId.
 *  - subscription create: not idempotent (asks for a second confirmation, answers
 *    "existing"). Key: the subscription id the proposer minted.
 *  - subscription update, delete, confirm, purge: not idempotent (overwrite or remove
 *    what changed in between, or answer "missing"). Key: commandId.
 *  - subscription expire, progress, noticeSent: idempotent (remove only what has
 *    expired; cursors only grow; a notice is forgotten only for its own request time).
 *    Proposed by the node's own notifier, whose answer is not shown to anyone.
 *  - dlqInsert: idempotent, already deduplicated by the inbox (source shard, outbox seq).
 *  - gc: idempotent in effect (removes only messages expired at the FSM's time; its
 *    count is a metric, not an answer). outboxAck: idempotent (removes one outbox entry).
 */
import { newObjectId } from '../../common/ids.js';
import type { ShardCommand } from './commands.js';

/** The key the FSM deduplicates `command` by, or undefined when it is idempotent. */
export function dedupKeyOf(command: ShardCommand): string | undefined {
  switch (command.type) {
    case 'post':
      return command.messages[0]?.id;
    case 'claim':
      return command.claimId;
    case 'subscription':
      if (command.op.op === 'create') return command.op.id;
      return command.commandId;
    case 'dlqInsert':
    case 'gc':
    case 'outboxAck':
      return undefined;
    default:
      return command.commandId;
  }
}

/** Whether `command` needs a minted commandId to be deduplicated (see the file header). */
export function needsCommandId(command: ShardCommand): boolean {
  switch (command.type) {
    case 'post':
    case 'claim':
    case 'dlqInsert':
    case 'gc':
    case 'outboxAck':
      return false;
    case 'subscription':
      return command.op.op === 'update' || command.op.op === 'delete' || command.op.op === 'confirm' || command.op.op === 'purge';
    default:
      return true;
  }
}

/** `command` with a commandId minted now if it needs one and has none. */
export function withCommandId<C extends ShardCommand>(command: C): C {
  if (!needsCommandId(command) || ('commandId' in command && command.commandId !== undefined)) return command;
  return { ...command, commandId: newObjectId(command.nowMs) };
}

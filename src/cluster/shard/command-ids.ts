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
 *    two claims could then hold). Key: its first message id, minted once by the proposer;
 *    commandId when its ids are derived at apply (commands.ts `PostedEntry`).
 *    A post rejected for stale metadata (expected-metadata.ts) is remembered too, so a
 *    late copy of it stays rejected even if the metadata changed back; the proposer
 *    posts again under new ids.
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
 *  - batch: no key of its own; each command it carries is recognised by its own key, so
 *    a repeated batch answers every command with its first result.
 */
import { newObjectId } from '../../common/ids.js';
import type { ShardCommand } from './commands.js';
import type { SubscriptionOp } from './subscription-writes.js';

/**
 * How a command is recognised as a repeat: by an id the proposer minted for it anyway
 * (`natural`), by a minted commandId, or not at all (idempotent). One table, so the
 * key the FSM reads and the id the proposer mints cannot disagree; subscription ops are
 * listed one by one, so a new op must be classified here.
 */
type KeyRule = { readonly natural: string | undefined } | 'commandId' | 'idempotent';

function keyRuleOf(command: ShardCommand): KeyRule {
  switch (command.type) {
    case 'post':
      // Messages whose ids are derived at apply (all packed ones) have none yet: such a post gets a commandId.
      return command.messages?.[0]?.id === undefined ? 'commandId' : { natural: command.messages[0].id };
    case 'claim':
      return { natural: command.claimId };
    case 'dlqInsert':
    case 'gc':
    case 'outboxAck':
    case 'batch':
      return 'idempotent';
    case 'subscription':
      return command.op.op === 'create' ? { natural: command.op.id } : subscriptionKeyRule(command.op.op);
    default:
      return 'commandId';
  }
}

function subscriptionKeyRule(op: Exclude<SubscriptionOp['op'], 'create'>): KeyRule {
  switch (op) {
    case 'update':
    case 'delete':
    case 'confirm':
    case 'purge':
      return 'commandId';
    case 'expire':
    case 'progress':
    case 'noticeSent':
      return 'idempotent';
  }
}

/** The key the FSM deduplicates `command` by, or undefined when it is idempotent. */
export function dedupKeyOf(command: ShardCommand): string | undefined {
  const rule = keyRuleOf(command);
  if (rule === 'idempotent') return undefined;
  if (rule === 'commandId') return 'commandId' in command ? command.commandId : undefined;
  return rule.natural;
}

/** Whether `command` needs a minted commandId to be deduplicated (see the file header). */
export function needsCommandId(command: ShardCommand): boolean {
  return keyRuleOf(command) === 'commandId';
}

/** `command` with a commandId minted now if it needs one and has none. */
export function withCommandId<C extends ShardCommand>(command: C): C {
  if (command.type === 'batch') return Object.assign({}, command, { commands: command.commands.map((c) => withCommandId(c)) });
  if (!needsCommandId(command) || ('commandId' in command && command.commandId !== undefined)) return command;
  // Object.assign rather than a spread: V8 copies an object holding a double (`nowMs`) by
  // spread in its runtime, several times slower, and every proposal comes through here.
  return Object.assign({}, command, { commandId: newObjectId(command.nowMs) });
}

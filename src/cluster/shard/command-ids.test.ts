/**
 * command-ids: a command minted through withCommandId is recognised by exactly the key
 * the FSM reads, and the commands the file header calls idempotent carry none.
 */
import { describe, expect, test } from 'vitest';
import type { ShardCommand } from './commands.js';
import { dedupKeyOf, needsCommandId, withCommandId } from './command-ids.js';

const nowMs = 1_700_000_000_000;
const subscription = (op: Record<string, unknown>): ShardCommand => ({ type: 'subscription', project: 'p', queue: 'q', nowMs, op } as unknown as ShardCommand);

describe('command-ids', () => {
  test('a minted commandId is the dedup key of every subscription op that needs one', () => {
    for (const op of ['update', 'delete', 'confirm', 'purge']) {
      const command = withCommandId(subscription({ op, id: 's' }));
      expect(needsCommandId(command)).toBe(true);
      expect(dedupKeyOf(command)).toBe((command as { commandId?: string }).commandId);
      expect(dedupKeyOf(command)).toBeDefined();
    }
  });

  test('subscription create is keyed by its own id, the notifier ops by none', () => {
    expect(dedupKeyOf(withCommandId(subscription({ op: 'create', id: 's1' })))).toBe('s1');
    for (const op of ['expire', 'progress', 'noticeSent']) {
      const command = withCommandId(subscription({ op, id: 's' }));
      expect(command).not.toHaveProperty('commandId');
      expect(dedupKeyOf(command)).toBeUndefined();
    }
  });

  test('post and claim keep their proposer-minted ids; gc is idempotent', () => {
    const post = { type: 'post', project: 'p', queue: 'q', nowMs, messages: [{ id: 'm1' }] } as unknown as ShardCommand;
    expect(withCommandId(post)).toBe(post);
    expect(dedupKeyOf(post)).toBe('m1');
    expect(dedupKeyOf({ type: 'gc', nowMs, removalsMax: 1 })).toBeUndefined();
  });

  test('a batch has no key of its own: each command it carries gets the key it would get alone', () => {
    const claim = { type: 'claim', project: 'p', queue: 'q', nowMs, claimId: 'c1', limit: 2, ttlSeconds: 60, graceSeconds: 60 } as const;
    const release = { type: 'release', project: 'p', queue: 'q', nowMs, claimId: 'c0' } as const;
    const minted = withCommandId({ type: 'batch', nowMs, commands: [claim, release] });
    expect(dedupKeyOf(minted)).toBeUndefined();
    if (minted.type !== 'batch') throw new Error('not a batch');
    const [first, second] = minted.commands;
    expect(first).toBe(claim);
    const commandId = second !== undefined && 'commandId' in second ? second.commandId : undefined;
    expect(typeof commandId).toBe('string');
    expect(dedupKeyOf(second!)).toBe(commandId);
  });
});

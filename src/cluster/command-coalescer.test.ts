/**
 * CommandCoalescer: the commands to one log read in one event-loop turn go as one batch at
 * its end, in arrival order, each answered with its own result; a command alone in its
 * turn goes unbatched; logs do not mix; a failed batch fails every command it carried; a
 * batch carries at most `commandsMax` commands; while batches are off every command goes
 * alone.
 */
import { describe, expect, test } from 'vitest';
import { CommandCoalescer } from './command-coalescer.js';
import type { BatchedCommand, ShardCommand } from './shard/commands.js';
import type { AnyCommandResult } from './shard/results.js';
import type { ShardLog } from './shard/shard-log.js';

interface Proposed {
  readonly command: ShardCommand;
  readonly answer: (result: AnyCommandResult | Error) => void;
}

function harness(commandsMax = 3) {
  let isEnabled = true;
  const turnEnds: (() => void)[] = [];
  const coalescer = new CommandCoalescer(() => isEnabled, commandsMax, (flush) => turnEnds.push(flush));
  const logOf = (): { log: ShardLog; proposed: Proposed[] } => {
    const proposed: Proposed[] = [];
    const log: ShardLog = {
      propose: (command) => new Promise((resolve, reject) => {
        proposed.push({ command, answer: (result) => (result instanceof Error ? reject(result) : resolve(result as never)) });
      }),
      readBarrier: () => Promise.resolve(),
    };
    return { log, proposed };
  };
  const endTurn = (): void => {
    for (const flush of turnEnds.splice(0)) flush();
  };
  const setEnabled = (enabled: boolean): void => {
    isEnabled = enabled;
  };
  return { coalescer, logOf, endTurn, setEnabled };
}

const release = (claimId: string, nowMs = 1): BatchedCommand => ({ type: 'release', nowMs, project: 'p', queue: 'q', claimId });
const claimIdsOf = (command: ShardCommand): string[] =>
  command.type === 'batch' ? command.commands.map((c) => (c as { claimId: string }).claimId) : [(command as { claimId: string }).claimId];

describe('CommandCoalescer', () => {
  test("a turn's commands to one log go as one batch, each answered with its own result; a lone command goes as it is", async () => {
    const { coalescer, logOf, endTurn } = harness();
    const { log, proposed } = logOf();
    const turn = [coalescer.propose(log, release('a', 5)), coalescer.propose(log, release('b', 7)), coalescer.propose(log, release('c', 6))];
    expect(proposed).toEqual([]);
    endTurn();
    expect(proposed.map((p) => p.command)).toEqual([{ type: 'batch', nowMs: 7, commands: [release('a', 5), release('b', 7), release('c', 6)] }]);
    const lone = coalescer.propose(log, release('d'));
    endTurn();
    expect(proposed[1]?.command).toEqual(release('d'));
    proposed[1]?.answer({ released: false });
    proposed[0]?.answer({ results: [{ released: true }, { moved: { shardId: 9, replicas: [] } } as never, { released: false }] });
    expect(await Promise.all(turn)).toEqual([{ released: true }, { moved: { shardId: 9, replicas: [] } }, { released: false }]);
    expect(await lone).toEqual({ released: false });
  });

  test('logs do not mix, batches are cut at commandsMax, a failed batch fails each of its commands', async () => {
    const { coalescer, logOf, endTurn } = harness(2);
    const first = logOf();
    const second = logOf();
    const onFirst = ['a', 'b', 'c'].map((id) => coalescer.propose(first.log, release(id)));
    const onSecond = coalescer.propose(second.log, release('x'));
    endTurn();
    expect(first.proposed.map((p) => claimIdsOf(p.command))).toEqual([['a', 'b'], ['c']]);
    expect(second.proposed.map((p) => claimIdsOf(p.command))).toEqual([['x']]);
    first.proposed[0]?.answer(new Error('unavailable'));
    first.proposed[1]?.answer({ released: true });
    second.proposed[0]?.answer({ released: true });
    const settled = await Promise.allSettled([...onFirst, onSecond]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
  });

  test('while batches are off, every command goes alone', () => {
    const { coalescer, logOf, endTurn, setEnabled } = harness();
    const { log, proposed } = logOf();
    setEnabled(false);
    void coalescer.propose(log, release('a'));
    void coalescer.propose(log, release('b'));
    endTurn();
    expect(proposed.map((p) => p.command)).toEqual([release('a'), release('b')]);
  });
});

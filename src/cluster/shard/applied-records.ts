/**
 * How the dedup window (applied-window.ts) lays out its QueueStore records. Each record
 * is keyed by a log index and holds one or more applied commands, each as an
 * `AppliedCommand`: its log index, dedup key, type, FSM time and stored result
 * (applied-result.ts).
 *
 * Two forms, told apart by their top-level msgpack type:
 *  - batch record (a msgpack array): every keyed command of one apply batch still in
 *    the window when the batch ended, as `[index, key, type, nowMs, stored]` tuples in
 *    index order, keyed by the first one's index. One put per batch and one removal
 *    when its last command leaves the window, where the command form cost one of each
 *    per command.
 *  - command record (a msgpack map `{ key, type, nowMs, ...stored }`, keyed by the
 *    command's own index): the form stores held before batch records, and the form
 *    shard images carry, so images keep their format and replicas of both versions
 *    exchange them. Stores keep reading it: a store written that way, or an installed
 *    image, opens with its window intact.
 */
import { pack, unpack } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { AppliedRecord } from '../../log/queue-store.js';
import { assertStoredResult, type StoredResult } from './applied-result.js';
import type { ShardCommandType } from './commands.js';

/** One command the window remembers: `[index, key, type, nowMs, stored]`. */
export type AppliedCommand = readonly [index: number, key: string, type: ShardCommandType, nowMs: number, stored: StoredResult];

/** A batch record of `commands` (in index order, at least one). */
export function batchRecordOf(commands: readonly AppliedCommand[]): AppliedRecord {
  const first = commands[0];
  assert(first !== undefined, 'an applied batch record needs a command');
  return { index: first[0], data: pack(commands) };
}

/** A command record (the form shard images carry) of `command`. */
export function commandRecordOf([index, key, type, nowMs, stored]: AppliedCommand): AppliedRecord {
  return { index, data: pack({ key, type, nowMs, ...stored }) };
}

/** The commands `record` holds, of either form, in index order. */
export function commandsOf(record: AppliedRecord): readonly AppliedCommand[] {
  const decoded = unpack(record.data) as unknown;
  if (Array.isArray(decoded)) {
    for (const command of decoded) assertCommand(command);
    assert(decoded.length > 0 && (decoded[0] as AppliedCommand)[0] === record.index, () => `applied batch record ${record.index} does not start at its index`);
    return decoded as AppliedCommand[];
  }
  const stored = decoded as { key: unknown; type: unknown; nowMs: unknown };
  assert(typeof stored.key === 'string' && typeof stored.nowMs === 'number' && typeof stored.type === 'string', 'malformed applied window record');
  assertStoredResult(stored);
  const result: StoredResult = 'result' in stored ? { result: stored.result } : { claimRef: stored.claimRef, outboxSeqs: stored.outboxSeqs };
  return [[record.index, stored.key, stored.type as ShardCommandType, stored.nowMs, result]];
}

function assertCommand(command: unknown): asserts command is AppliedCommand {
  const ok = Array.isArray(command) && command.length === 5 && typeof command[0] === 'number' && typeof command[1] === 'string' && typeof command[2] === 'string' && typeof command[3] === 'number' && typeof command[4] === 'object' && command[4] !== null;
  assert(ok, 'malformed applied window batch record');
  assertStoredResult(command[4] as object);
}

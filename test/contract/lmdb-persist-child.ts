/**
 * Child process of the kill -9 durability test: persists one entry per round to four
 * groups at once (group commit), continuing after whatever the store already holds, and
 * prints each round's index on stdout once all four persists resolved. After `killAfter`
 * rounds it prints the last index and SIGKILLs itself in the same turn, so nothing but
 * a synchronous pipe write separates the acknowledgement from the kill. (A process kill
 * keeps the OS page cache, so this proves crash durability of acknowledged writes;
 * that acknowledgement waits for the flush is proven in group-commit.test.ts.)
 */
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import type { HardState, LogIndex, NodeId, ShardId, Term } from '../../src/raft/types.js';

const [dir, killAfterText] = process.argv.slice(2);
if (dir === undefined || killAfterText === undefined) throw new Error('usage: lmdb-persist-child <dir> <rounds>');
const store = new LmdbLogStore(openLmdbEnv(dir));
const shards = [1, 2, 3, 4].map((n) => n as ShardId);
const start = Math.min(...shards.map((shard) => store.load(shard).lastIndex)) + 1;
const end = start + Number(killAfterText);

for (let index = start; index < end; index++) {
  const hardState: HardState = { term: 1 as Term, vote: 1 as NodeId, commit: index as LogIndex };
  await Promise.all(
    shards.map((shard) => {
      const data = new Uint8Array(256).fill(shard);
      const entry = { term: 1 as Term, index: index as LogIndex, type: 0 as const, data };
      return store.persist(shard, { entries: [entry], hardState });
    }),
  );
  process.stdout.write(`${index}\n`);
}
process.kill(process.pid, 'SIGKILL');

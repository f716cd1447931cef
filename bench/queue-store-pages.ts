/**
 * LMDB pages per queued message, by database: applies post commands (batches of 100 bodies
 * of 256 bytes, one deep queue or many queues of 100) to a QueueFsm on a fresh LMDB
 * environment in a temp dir, then prints each database's entries, pages and fill. The
 * resident file pages of a node holding these messages follow these page counts.
 *
 *   npx tsx bench/queue-store-pages.ts [--messages N] [--layout deep|wide] [--form derived|entries|bodies]
 *
 * `--form`: how the posts carry their messages (cluster/shard/posted-messages.ts): as
 * entries with ids derived from seqs (the default, what a node proposes once every node
 * has that capability), as entries with minted ids, or as bodies (the earlier forms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogIndex, ShardId } from '../src/common/ids.js';
import { encodeCommand } from '../src/cluster/shard/commands.js';
import { postedMessages } from '../src/cluster/shard/posted-messages.js';
import { QueueFsm } from '../src/cluster/shard/queue-fsm.js';
import { openLmdbEnv } from '../src/log/lmdb/lmdb-env.js';
import { LmdbQueueStore } from '../src/log/lmdb/lmdb-queue-store.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const total = Number(option('messages') ?? 200_000);
const layout = option('layout') ?? 'deep';
const form = option('form') ?? 'derived';
if (!['derived', 'entries', 'bodies'].includes(form)) throw new Error(`unknown --form ${form}`);
const batch = 100;
const dir = mkdtempSync(join(tmpdir(), 'zaqar-pages-'));
const env = openLmdbEnv(dir);
try {
  const fsm = new QueueFsm(0 as ShardId, new LmdbQueueStore(env));
  const newMessages = Array.from({ length: batch }, () => ({ body: { pad: 'a'.repeat(256 - 12) }, ttlSeconds: 86_400, delaySeconds: 0 }));
  const clientId = '3381af92-2b9e-11e3-b191-71861300734c';
  const forms = { asEntries: form !== 'bodies', derivesIds: form === 'derived' };
  const nowMs = Date.now();
  let index = fsm.appliedIndex;
  for (let request = 0; request < total / batch; request++) {
    const queue = layout === 'deep' ? 'deep' : `q${request % Math.max(1, Math.round(total / 100))}`;
    const { carried } = postedMessages(newMessages, { nowMs, clientId, enableChecksum: false, ...forms });
    const data = encodeCommand({ type: 'post', nowMs, project: 'memory-bench', queue, clientId, ...carried });
    index++;
    fsm.apply([{ index: index as LogIndex, data }]);
    if (request % 50 === 0) await fsm.store.flushed();
  }
  await fsm.store.flushed();
  console.log(`${total.toLocaleString('en')} messages, layout ${layout}, form ${form}`);
  console.log('| database | entries | leaf pages | branch pages | overflow pages | MiB | bytes per message |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  let bytesAll = 0;
  for (const name of ['queue-records', 'queue-entries', 'queue-ids', 'queue-shards']) {
    const stats = env.openDB({ name }).getStats() as { entryCount: number; treeLeafPageCount: number; treeBranchPageCount: number; overflowPages: number; pageSize: number };
    const bytes = (stats.treeLeafPageCount + stats.treeBranchPageCount + stats.overflowPages) * stats.pageSize;
    bytesAll += bytes;
    console.log(`| ${name} | ${stats.entryCount} | ${stats.treeLeafPageCount} | ${stats.treeBranchPageCount} | ${stats.overflowPages} | ` +
      `${(bytes / 1048576).toFixed(1)} | ${(bytes / total).toFixed(0)} |`);
  }
  console.log(`| all | | | | | ${(bytesAll / 1048576).toFixed(1)} | ${(bytesAll / total).toFixed(0)} |`);
} finally {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}

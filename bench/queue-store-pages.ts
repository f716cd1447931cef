/**
 * LMDB pages per queued message, by database: applies post commands (batches of 100 bodies
 * of 256 bytes, one deep queue or many queues of 100) to a QueueFsm on a fresh LMDB
 * environment in a temp dir, then prints each database's entries, pages and fill. The
 * resident file pages of a node holding these messages follow these page counts.
 *
 *   npx tsx bench/queue-store-pages.ts [--messages N] [--layout deep|wide]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogIndex, ShardId } from '../src/common/ids.js';
import { newObjectId } from '../src/common/ids.js';
import { encodeBody } from '../src/cluster/shard/body-codec.js';
import { encodeCommand } from '../src/cluster/shard/commands.js';
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
const batch = 100;
const dir = mkdtempSync(join(tmpdir(), 'zaqar-pages-'));
const env = openLmdbEnv(dir);
try {
  const fsm = new QueueFsm(0 as ShardId, new LmdbQueueStore(env));
  const body = encodeBody({ pad: 'a'.repeat(256 - 12) });
  const nowMs = Date.now();
  let index = fsm.appliedIndex;
  for (let request = 0; request < total / batch; request++) {
    const queue = layout === 'deep' ? 'deep' : `q${request % Math.max(1, Math.round(total / 100))}`;
    const messages = Array.from({ length: batch }, () => ({ id: newObjectId(nowMs), body, ttlSeconds: 86_400, delaySeconds: 0, checksum: null }));
    const data = encodeCommand({ type: 'post', nowMs, project: 'memory-bench', queue, clientId: '3381af92-2b9e-11e3-b191-71861300734c', messages });
    index++;
    fsm.apply([{ index: index as LogIndex, data }]);
    if (request % 50 === 0) await fsm.store.flushed();
  }
  await fsm.store.flushed();
  console.log(`${total.toLocaleString('en')} messages, layout ${layout}`);
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

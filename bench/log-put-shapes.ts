/**
 * What writing the Raft log costs per entry on LMDB in two record shapes: one put per
 * entry (as LmdbLogStore writes it) against one put per persist holding all its entries,
 * each persist awaited until flushed, with the entries 2,000 behind removed as compaction
 * would. Prints process CPU (main thread plus lmdb-js's write thread) and main-thread CPU
 * per entry; bounded by P persists of K entries of B bytes, timings never checked.
 *
 *   K=40 P=300 B=3000 npx tsx bench/log-put-shapes.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbEnv } from '../src/log/lmdb/lmdb-env.js';

const perPersist = Number(process.env['K'] ?? 40);
const persists = Number(process.env['P'] ?? 300);
const entryBytes = Number(process.env['B'] ?? 3000);
const kept = 2000;

/** This thread's CPU so far in µs (clock ticks of 10 ms: read it over whole runs only). */
function mainThreadUs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function run(shape: 'per entry' | 'per persist'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'log-put-shapes-'));
  const env = openLmdbEnv(dir);
  const db = env.openDB<Buffer, [number, number]>({ name: 'entries', encoding: 'binary' });
  const one = Buffer.alloc(entryBytes, 9);
  const run = Buffer.alloc(entryBytes * perPersist, 9);
  let index = 0;
  const cpu = process.cpuUsage();
  const main = mainThreadUs();
  for (let persist = 0; persist < persists; persist++) {
    let last: Promise<unknown> | undefined;
    if (shape === 'per entry') {
      for (let k = 0; k < perPersist; k++) last = db.put([1, ++index], one);
      if (index > kept) for (let k = 0; k < perPersist; k++) void db.remove([1, index - kept - k]);
    } else {
      last = db.put([1, index + 1], run);
      index += perPersist;
      if (index > kept) void db.remove([1, index - kept - perPersist + 1]);
    }
    await last;
    await env.flushed;
  }
  const used = process.cpuUsage(cpu);
  const entries = persists * perPersist;
  console.log(`${shape.padEnd(11)} ${perPersist} × ${entryBytes} B per persist: process CPU ${((used.user + used.system) / entries).toFixed(1)} µs per entry, main thread ~${((mainThreadUs() - main) / entries).toFixed(1)}`);
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}

for (let pass = 0; pass < 2; pass++) {
  await run('per entry');
  await run('per persist');
}

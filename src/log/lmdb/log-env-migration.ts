/**
 * Moves the Raft log of a data directory of the earlier layout, which kept it in the
 * queue state's environment (`zaqar.lmdb`), into the log's own environment (logEnvFile,
 * lmdb-env.ts), before either store serves anything.
 *
 * Crash safety: the records are copied in synchronous (flushed) transactions of the log's
 * environment, and the old databases are dropped only after the last copy, in one
 * synchronous transaction of the queue state's environment. A crash before the drop
 * leaves the old databases whole and the next start copies them again (the same keys and
 * values over a partial copy); a data directory of the current layout has no old
 * databases, and nothing is opened or created in it.
 */
import type { Database, Key } from 'lmdb';
import { openExistingDb, type LmdbEnv } from './lmdb-env.js';
import { logDbNames } from './log-dbs.js';

/** Records copied per transaction: bounds what one transaction holds (log records are up to a few MiB). */
const batchSize = 256;

export function moveLogToOwnEnv(queueEnv: LmdbEnv, logEnv: LmdbEnv): void {
  if (queueEnv === logEnv) return;
  const old: { name: string; db: Database<Buffer, Key> }[] = [];
  for (const name of Object.values(logDbNames)) {
    const db = openExistingDb<Buffer>(queueEnv, { name, encoding: 'binary' });
    if (db !== undefined) old.push({ name, db });
  }
  if (old.length === 0) return;
  for (const { name, db } of old) copyAll(db, logEnv.openDB<Buffer, Key>(name, { encoding: 'binary' }), logEnv);
  queueEnv.transactionSync(() => {
    for (const { db } of old) db.dropSync();
  });
}

function copyAll(from: Database<Buffer, Key>, to: Database<Buffer, Key>, toEnv: LmdbEnv): void {
  let after: Key | undefined;
  for (;;) {
    const batch = [...from.getRange({ ...(after === undefined ? {} : { start: after, exclusiveStart: true }), limit: batchSize })];
    if (batch.length === 0) return;
    toEnv.transactionSync(() => {
      for (const { key, value } of batch) to.putSync(key, Buffer.from(value));
    });
    after = batch[batch.length - 1]!.key;
  }
}

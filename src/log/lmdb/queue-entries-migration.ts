/**
 * Converts a queue store of the earlier layout, which kept each message in two databases
 *
 *   queue-messages  [shard, project, queue, seq]  → StoredMessage (msgpack, shared structures)
 *   queue-bodies    [shard, project, queue, seq]  → body bytes
 *
 * into `queue-entries` (one value per message, message-entry.ts), before the store serves
 * anything. The id index, queue records, shard metas, outboxes and dedup windows keep
 * their layout, so claims (stamped on the message records) and applied indexes carry over.
 *
 * Crash safety: each batch moves its messages in one synchronous transaction (written into
 * queue-entries and removed from both old databases), so a crash leaves every message in
 * exactly one layout and the next start moves the rest. The old databases are dropped once
 * empty. A data directory of the current layout has neither: nothing is opened or created.
 */
import type { Database, Key } from 'lmdb';
import { assert } from '../../common/assert.js';
import type { StoredMessage } from '../queue-store.js';
import { openExistingDb, type LmdbEnv } from './lmdb-env.js';
import { encodeMessageEntry } from '../message-entry.js';

/** Messages moved per transaction: bounds the dirty pages one transaction holds. */
const batchSize = 10_000;

export function migrateSplitMessages(env: LmdbEnv, entries: Database<Uint8Array, Key>): void {
  const records = openExistingDb<StoredMessage>(env, { name: 'queue-messages', sharedStructuresKey: Symbol.for('structures') });
  const bodies = openExistingDb<Uint8Array>(env, { name: 'queue-bodies', encoding: 'binary' });
  if (records !== undefined) {
    assert(bodies !== undefined, 'queue-messages without queue-bodies: not a queue store of the earlier layout');
    while (moveBatch(env, records, bodies, entries) > 0);
  }
  // Dropped only once empty: a crash between the two drops leaves an empty queue-bodies.
  records?.dropSync();
  bodies?.dropSync();
}

function moveBatch(env: LmdbEnv, records: Database<StoredMessage, Key>, bodies: Database<Uint8Array, Key>, entries: Database<Uint8Array, Key>): number {
  return env.transactionSync(() => {
    // Tuple keys start with the shard number; the shared structures sit under a symbol key.
    const batch = [...records.getRange({ start: [0], end: [Number.MAX_SAFE_INTEGER], limit: batchSize })];
    for (const { key, value } of batch) {
      const body = bodies.get(key);
      assert(body !== undefined, () => `message ${value.id} of the earlier layout has no body`);
      entries.putSync(key, encodeMessageEntry(value, body));
      records.removeSync(key);
      bodies.removeSync(key);
    }
    return batch.length;
  });
}

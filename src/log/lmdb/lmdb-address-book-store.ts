/**
 * AddressBookStore in the node's LMDB environment: one named database
 *
 *   cluster-addresses   nodeId → { nodeId, address, counter, writer }   (msgpack)
 *
 * The composition opens it before the shards' stores, through openLmdbEnv on the same
 * data dir: lmdb-js keeps one MDB_env per path per process (reference-counted, shared by
 * every `open` of it), so this is the queue state's environment (`zaqar.lmdb`), not another one. A save
 * is a few asynchronous puts (one transaction) and resolves once the environment
 * reports them flushed, never at mere commit. Entries are checked before they are
 * written and after they are read back.
 */
import type { Database } from 'lmdb';
import { assert } from '../../common/assert.js';
import { isStoredAddress, type AddressBookStore, type StoredAddress } from '../address-book-store.js';
import { openLmdbEnv, type LmdbEnv, type LmdbEnvOptions } from './lmdb-env.js';

const dbName = 'cluster-addresses';

export class LmdbAddressBookStore implements AddressBookStore {
  private readonly db: Database<StoredAddress, number>;

  private constructor(private readonly env: LmdbEnv) {
    this.db = env.openDB<StoredAddress, number>({ name: dbName });
  }

  /** Opens (creating when needed) the node's environment under `dataDir` and the book's database in it. */
  static open(dataDir: string, envOptions: LmdbEnvOptions = {}): LmdbAddressBookStore {
    return new LmdbAddressBookStore(openLmdbEnv(dataDir, envOptions));
  }

  load(): StoredAddress[] {
    const entries: StoredAddress[] = [];
    for (const { key, value } of this.db.getRange()) {
      assert(isStoredAddress(value) && value.nodeId === key, () => `corrupt address book entry for node ${String(key)}`);
      entries.push({ nodeId: value.nodeId, address: value.address, counter: value.counter, writer: value.writer });
    }
    return entries;
  }

  async save(entries: readonly StoredAddress[]): Promise<void> {
    if (entries.length === 0) return;
    const puts = entries.map((entry) => {
      assert(isStoredAddress(entry), () => `malformed address book entry ${JSON.stringify(entry)}`);
      return this.db.put(entry.nodeId, { nodeId: entry.nodeId, address: entry.address, counter: entry.counter, writer: entry.writer });
    });
    await Promise.all(puts);
    // `flushed` belongs to the environment's latest commit, which includes these puts.
    await this.env.flushed;
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/**
 * The in-memory twin of LmdbAddressBookStore (tests, simulations): the same contract,
 * nothing survives the process.
 */
import { assert } from '../../common/assert.js';
import { isStoredAddress, type AddressBookStore, type StoredAddress } from '../address-book-store.js';

export class MemoryAddressBookStore implements AddressBookStore {
  private readonly entries = new Map<number, StoredAddress>();

  load(): StoredAddress[] {
    return [...this.entries.values()].sort((a, b) => a.nodeId - b.nodeId).map((entry) => ({ ...entry }));
  }

  async save(entries: readonly StoredAddress[]): Promise<void> {
    for (const entry of entries) {
      assert(isStoredAddress(entry), () => `malformed address book entry ${JSON.stringify(entry)}`);
      this.entries.set(entry.nodeId, { ...entry });
    }
  }

  async close(): Promise<void> {}
}

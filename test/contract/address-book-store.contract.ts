/**
 * The AddressBookStore contract, run against every implementation (LMDB in a temp dir,
 * memory): what is saved loads back in node id order, a save replaces the entries of the
 * ids it names and leaves the others, removed nodes (null address) are kept as entries.
 */
import { describe, expect, test } from 'vitest';
import type { AddressBookStore, StoredAddress } from '../../src/log/address-book-store.js';

export interface OpenedAddressBookStore {
  readonly store: AddressBookStore;
  close(): Promise<void>;
}

const entry = (nodeId: number, address: string | null, counter: number, writer = 1): StoredAddress => ({ nodeId, address, counter, writer });

export function addressBookStoreContract(name: string, open: () => Promise<OpenedAddressBookStore>): void {
  describe(`${name} satisfies AddressBookStore`, () => {
    test('a new store is empty', async () => {
      const { store, close } = await open();
      expect(store.load()).toEqual([]);
      await close();
    });

    test('saved entries load back in node id order', async () => {
      const { store, close } = await open();
      await store.save([entry(3, '127.0.0.1:7003', 2), entry(1, '127.0.0.1:7001', 1)]);
      expect(store.load()).toEqual([entry(1, '127.0.0.1:7001', 1), entry(3, '127.0.0.1:7003', 2)]);
      await close();
    });

    test('a save replaces the named ids only and keeps removals', async () => {
      const { store, close } = await open();
      await store.save([entry(1, 'a:1', 1), entry(2, 'b:2', 2)]);
      await store.save([entry(2, null, 5, 3), entry(4, 'd:4', 6, 2)]);
      expect(store.load()).toEqual([entry(1, 'a:1', 1), entry(2, null, 5, 3), entry(4, 'd:4', 6, 2)]);
      await close();
    });

    test('a malformed entry is refused before it is written', async () => {
      const { store, close } = await open();
      await expect(async () => store.save([{ nodeId: 0, address: 'x:1', counter: 1, writer: 1 }])).rejects.toThrow();
      expect(store.load()).toEqual([]);
      await close();
    });
  });
}

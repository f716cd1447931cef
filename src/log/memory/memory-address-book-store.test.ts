/** Runs the AddressBookStore contract against the in-memory twin. */
import { addressBookStoreContract } from '../../../test/contract/address-book-store.contract.js';
import { MemoryAddressBookStore } from './memory-address-book-store.js';

addressBookStoreContract('MemoryAddressBookStore', async () => ({ store: new MemoryAddressBookStore(), close: async () => undefined }));

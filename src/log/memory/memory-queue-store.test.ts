/** Runs the QueueStore contract against the in-memory twin. */
import { queueStoreContract } from '../../../test/contract/queue-store.contract.js';
import { MemoryQueueStore } from './memory-queue-store.js';

queueStoreContract('MemoryQueueStore', async () => ({ store: new MemoryQueueStore(), close: async () => undefined }));

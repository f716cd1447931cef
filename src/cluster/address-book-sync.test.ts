/**
 * AddressBookSync over an in-memory exchanger (the gRPC one is covered by the process
 * suite test/cluster/address-book.test.ts) and memory stores: explicit peers win over a
 * stored book, an operator's change is persisted and pushed to every node, a node that
 * missed it catches up at its next pull, removals propagate, a joining node retries
 * its seeds until one answers, and peers' capabilities are learnt from exchanges. Delays run their task at once, so nothing sleeps.
 */
import { describe, expect, test } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { SeededRandom } from '../common/random.js';
import type { Delays } from '../common/timers.js';
import { MemoryAddressBookStore } from '../log/memory/memory-address-book-store.js';
import type { AddressEntry } from './address-book.js';
import { AddressBookSync, type AddressExchange, type AddressExchanger } from './address-book-sync.js';
import { answersMessagePage, postChecksExpectedMetadata } from './peer-capabilities.js';

/** Runs every delayed task on the next turn, counting them. */
class ImmediateDelays implements Delays {
  scheduled = 0;
  after(_delayMs: number, task: () => void): () => void {
    this.scheduled += 1;
    let isCancelled = false;
    setImmediate(() => {
      if (!isCancelled) task();
    });
    return () => {
      isCancelled = true;
    };
  }
}

/**
 * Routes exchanges by address to the sync listening there; `down` addresses fail. A node
 * id in `older` stands for a node of the previous version: what it sends and answers
 * carries no capabilities (the field did not exist).
 */
class MemoryExchangers {
  readonly nodes = new Map<string, AddressBookSync>();
  readonly down = new Set<string>();
  readonly older = new Set<number>();

  exchanger(): AddressExchanger {
    return {
      exchange: async (address: string, request: AddressExchange): Promise<AddressExchange> => {
        const node = this.nodes.get(address);
        if (node === undefined || this.down.has(address)) throw new Error(`${address} unreachable`);
        return this.asSent(await node.serve(this.asSent(request)));
      },
      close: () => undefined,
    };
  }

  private asSent(exchange: AddressExchange): AddressExchange {
    return this.older.has(exchange.from) ? { from: exchange.from, entries: exchange.entries } : exchange;
  }
}

const address = (nodeId: number): string => `127.0.0.1:${7000 + nodeId}`;

async function openNode(net: MemoryExchangers, nodeId: number, options: { peers?: number[]; seeds?: number[]; store?: MemoryAddressBookStore; changes?: AddressEntry[] } = {}): Promise<AddressBookSync> {
  const sync = await AddressBookSync.open(
    {
      nodeId,
      ownAddress: address(nodeId),
      peers: new Map((options.peers ?? []).map((id) => [id, address(id)])),
      seeds: (options.seeds ?? []).map(address),
      pullIntervalMs: 10_000,
      exchangeDeadlineMs: 1_000,
    },
    {
      store: options.store ?? new MemoryAddressBookStore(),
      exchanger: net.exchanger(),
      delays: new ImmediateDelays(),
      random: new SeededRandom(nodeId),
      logger: silentLogger,
      onChange: (changed) => options.changes?.push(...changed),
    },
  );
  net.nodes.set(address(nodeId), sync);
  return sync;
}

describe('AddressBookSync', () => {
  test('explicit peers win over the stored book and are written back', async () => {
    const store = new MemoryAddressBookStore();
    await store.save([{ nodeId: 2, address: '10.0.0.2:7000', counter: 9, writer: 3 }, { nodeId: 4, address: address(4), counter: 5, writer: 2 }]);
    const sync = await openNode(new MemoryExchangers(), 1, { peers: [2, 3], store });
    expect(sync.peers()).toEqual(new Map([[2, address(2)], [3, address(3)], [4, address(4)]]));
    // Node 1's own entry takes counter 10, the overriding peers entry 11.
    expect(store.load().find((entry) => entry.nodeId === 2)).toEqual({ nodeId: 2, address: address(2), counter: 11, writer: 1 });
  });

  test('this node dials its own --peers address even when a newer book entry names another, until a removal', async () => {
    const sync = await openNode(new MemoryExchangers(), 1, { peers: [2] });
    await sync.serve({ from: 3, entries: [{ nodeId: 2, address: '10.0.0.2:7000', counter: 50, writer: 3 }] });
    expect(sync.entries().find((entry) => entry.nodeId === 2)?.address).toBe('10.0.0.2:7000');
    expect(sync.peers()).toEqual(new Map([[2, address(2)]]));
    await sync.serve({ from: 3, entries: [{ nodeId: 2, address: null, counter: 51, writer: 3 }] });
    expect(sync.peers()).toEqual(new Map());
  });

  test('a recorded node is persisted, applied and pushed to every node in the book', async () => {
    const net = new MemoryExchangers();
    const store = new MemoryAddressBookStore();
    const changes: AddressEntry[] = [];
    const one = await openNode(net, 1, { peers: [2, 3], store, changes });
    const two = await openNode(net, 2, { peers: [1, 3] });
    const three = await openNode(net, 3, { peers: [1, 2] });
    await one.record(4, address(4));
    expect(changes.map((entry) => entry.nodeId)).toContain(4);
    expect(store.load().find((entry) => entry.nodeId === 4)?.address).toBe(address(4));
    expect(two.address(4)).toBe(address(4));
    expect(three.address(4)).toBe(address(4));
  });

  test('a node that missed a change catches up at its next pull, and removals propagate', async () => {
    const net = new MemoryExchangers();
    const one = await openNode(net, 1, { peers: [2, 3] });
    await openNode(net, 2, { peers: [1, 3] });
    const three = await openNode(net, 3, { peers: [1, 2] });
    net.down.add(address(3));
    await one.record(4, address(4));
    expect(three.address(4)).toBeUndefined();
    net.down.delete(address(3));
    three.startPulling();
    await waitUntil(() => three.address(4) === address(4));
    await one.remove(4);
    expect(three.address(4)).toBeUndefined();
    expect(three.entries().find((entry) => entry.nodeId === 4)?.address).toBeNull();
    three.close();
  });

  test('a joining node retries its seeds until one answers, and the seed learns its address', async () => {
    const net = new MemoryExchangers();
    const seed = await openNode(net, 1, { peers: [2] });
    net.down.add(address(1));
    const joining = await openNode(net, 4, { seeds: [1] });
    const pulled = joining.pullUntilAnswered();
    await waitUntil(() => true);
    net.down.delete(address(1));
    expect(await pulled).toBe(true);
    expect(joining.peers()).toEqual(new Map([[1, address(1)], [2, address(2)]]));
    expect(seed.address(4)).toBe(address(4));
  });

  test('a capability counts once every other node advertised it: not for a node of the older version, nor one not heard from', async () => {
    const net = new MemoryExchangers();
    net.older.add(3);
    const one = await openNode(net, 1, { peers: [2, 3] });
    const two = await openNode(net, 2, { peers: [1, 3] });
    const three = await openNode(net, 3, { peers: [1, 2] });
    expect(one.everyPeerHas(postChecksExpectedMetadata)).toBe(false);
    // Node 1 hears node 2 (it answers) and node 3 (older: no capabilities).
    await one.record(1, address(1));
    expect(one.capabilities.allHave([2], postChecksExpectedMetadata)).toBe(true);
    expect(one.everyPeerHas(postChecksExpectedMetadata)).toBe(false);
    // Node 3 is upgraded: its next exchange advertises what its version can do.
    net.older.delete(3);
    await three.record(3, address(3));
    expect(one.everyPeerHas(postChecksExpectedMetadata)).toBe(true);
    expect(one.everyPeerHas(answersMessagePage)).toBe(true);
    expect(one.everyPeerHas('not-a-capability')).toBe(false);
    // Node 2 has heard node 1 only when node 1 pushed to it; node 3 pushed too, so both are known.
    expect(two.everyPeerHas(postChecksExpectedMetadata)).toBe(true);
    // A node added to the book is not heard from yet: the capability is off again until it is.
    await one.record(4, address(4));
    expect(one.everyPeerHas(postChecksExpectedMetadata)).toBe(false);
  });

  test('a node with neither seeds nor peers does not wait', async () => {
    expect(await (await openNode(new MemoryExchangers(), 1)).pullUntilAnswered()).toBe(false);
  });
});

/** Lets queued turns run until `condition` holds (bounded; no wall-clock sleeps). */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not reached in 1000 turns');
}

/**
 * The production wiring: RaftHosts ticking on their own interval timers over a
 * MemoryNetwork that delivers by itself. A leader is elected and a proposal commits
 * without the test driving anything (waits on conditions with a deadline, no sleeps).
 */
import { expect, test } from 'vitest';
import { SeededRandom } from '../../src/common/random.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import { MemoryNetwork } from '../../src/raft/memory/memory-network.js';
import { RaftError } from '../../src/raft/raft-error.js';
import { intervalTicker, RaftHost } from '../../src/raft/raft-host.js';
import type { NodeId, ShardId } from '../../src/raft/types.js';
import { encodeValue, ListFsm } from '../sim/list-fsm.js';

async function waitFor(condition: () => boolean, deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('hosts on interval tickers elect a leader and commit a proposal by themselves', async () => {
  const network = new MemoryNetwork({ random: new SeededRandom(11), autoDeliver: (deliver) => setImmediate(deliver) });
  const ids = [1, 2, 3] as NodeId[];
  const shardId = 1 as ShardId;
  const fsms = ids.map(() => new ListFsm(() => undefined, () => undefined));
  const hosts = ids.map((id, i) => {
    const host = new RaftHost({ nodeId: id, store: new MemoryLogStore(), transport: network.transport(id), random: new SeededRandom(id), ticker: intervalTicker(5) });
    const fsm = fsms[i];
    if (fsm === undefined) throw new Error('missing fsm');
    host.addGroup({ shardId, peers: ids, fsm });
    host.start();
    return host;
  });
  try {
    const leaderOf = () => hosts.map((host) => host.group(shardId)).find((group) => group?.status().role === 'leader');
    // Like a client: find the leader and retry if leadership moved meanwhile (a starved
    // timer on a busy machine can cost a term).
    let index: number | undefined;
    const deadline = performance.now() + 20_000;
    while (index === undefined && performance.now() < deadline) {
      await waitFor(() => leaderOf() !== undefined, 20_000);
      const result = await leaderOf()?.propose(encodeValue('hello')).catch((error: unknown) => {
        if (error instanceof RaftError && error.reason === 'not_leader') return undefined;
        throw error;
      });
      index = result?.index;
    }
    expect(index).toBeGreaterThan(3);
    await waitFor(() => fsms.every((fsm) => fsm.values.includes('hello')), 20_000);
  } finally {
    await Promise.all(hosts.map((host) => host.stop()));
  }
});

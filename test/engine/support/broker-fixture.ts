/**
 * Opens ShardedBrokers on real LMDB in temp dirs with a SimClock and manual timers, and
 * removes everything afterwards. `reopen` closes and opens the same data dir again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Broker } from '../../../src/api/broker.js';
import { SimClock } from '../../../src/common/clock.js';
import { ManualTimers } from '../../../src/common/timers.js';
import { ShardedBroker } from '../../../src/cluster/sharded-broker.js';

export interface BrokerFixture {
  readonly broker: ShardedBroker;
  readonly clock: SimClock;
  readonly timers: ManualTimers;
  readonly dataDir: string;
  reopen(): Promise<BrokerFixture>;
  close(): Promise<void>;
}

const openDirs = new Set<string>();

// Compile-time proof that ShardedBroker satisfies the api's interface.
export function asBroker(broker: ShardedBroker): Broker {
  return broker;
}

export async function openBrokerFixture(options: { shardCount?: number; enableChecksum?: boolean; dataDir?: string; clock?: SimClock } = {}): Promise<BrokerFixture> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'zaqar-broker-'));
  openDirs.add(dataDir);
  const clock = options.clock ?? new SimClock();
  const timers = new ManualTimers();
  const broker = await ShardedBroker.open({ dataDir, shardCount: options.shardCount, clock, enableChecksum: options.enableChecksum, timers });
  const fixture: BrokerFixture = {
    broker,
    clock,
    timers,
    dataDir,
    reopen: async () => {
      await broker.close();
      return openBrokerFixture({ ...options, dataDir, clock });
    },
    close: () => broker.close(),
  };
  return fixture;
}

/** Closes nothing itself: call after closing brokers to delete their data dirs. */
export function removeBrokerDirs(): void {
  for (const dir of openDirs) rmSync(dir, { recursive: true, force: true });
  openDirs.clear();
}

/**
 * Registers cleanup and returns an opener: each test opens at most one fixture, which
 * is closed and deleted after the test.
 */
export function useBrokerFixture(): (options?: Parameters<typeof openBrokerFixture>[0]) => Promise<BrokerFixture> {
  let current: BrokerFixture | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
    removeBrokerDirs();
  });
  return async (options) => {
    current = await openBrokerFixture(options);
    return current;
  };
}

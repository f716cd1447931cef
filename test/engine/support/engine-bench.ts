/**
 * Bench-ready load of the single-node engine: `writers` concurrent producers post
 * `messages` bodies of `bodyBytes` (in posts of `batchSize`) through a ShardedBroker on
 * LMDB in a temp dir, then it is closed and reopened (index rebuild). Reports
 * throughput, group-commit sharing and memory. Bounded by `messages`; no timing
 * asserts: callers (bench/, or `npx tsx test/engine/support/engine-bench.ts 200000`)
 * print the result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../src/common/clock.js';
import { ManualTimers } from '../../../src/common/timers.js';
import { ShardedBroker } from '../../../src/cluster/sharded-broker.js';

export interface EngineBenchOptions {
  readonly messages: number;
  readonly writers?: number;
  readonly batchSize?: number;
  readonly bodyBytes?: number;
  readonly queues?: number;
  readonly shardCount?: number;
}

export interface EngineBenchResult {
  readonly messages: number;
  readonly postSeconds: number;
  readonly messagesPerSecond: number;
  readonly flushes: number;
  readonly proposals: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly reopenSeconds: number;
}

export async function runEngineBench(options: EngineBenchOptions): Promise<EngineBenchResult> {
  const { messages, writers = 64, batchSize = 10, bodyBytes = 256, queues = 20, shardCount = 16 } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'zaqar-bench-'));
  const clock = new SystemClock();
  const open = () => ShardedBroker.open({ dataDir, shardCount, clock, timers: new ManualTimers() });
  try {
    const broker = await open();
    const body = 'x'.repeat(Math.max(0, bodyBytes - 2));
    let posted = 0;
    const started = clock.monotonicMs();
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const ref = { project: 'bench', queue: `q${writer % queues}` };
        while (posted < messages) {
          const count = Math.min(batchSize, messages - posted);
          posted += count;
          const batch = Array.from({ length: count }, () => ({ body, ttlSeconds: 3600, delaySeconds: 0 }));
          await broker.postMessages(ref, { clientId: 'bench', messages: batch });
        }
      }),
    );
    const postSeconds = (clock.monotonicMs() - started) / 1000;
    const { flushes, proposals } = broker.logStats;
    const memory = process.memoryUsage();
    await broker.close();
    const reopenStarted = clock.monotonicMs();
    const reopened = await open();
    const reopenSeconds = (clock.monotonicMs() - reopenStarted) / 1000;
    await reopened.close();
    return {
      messages: posted,
      postSeconds,
      messagesPerSecond: Math.round(posted / postSeconds),
      flushes,
      proposals,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      reopenSeconds,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runEngineBench({ messages: Number(process.argv[2] ?? 100_000) });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

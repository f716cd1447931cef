/**
 * Child process for the kill -9 test: opens a ShardedBroker on the given data dir and
 * posts and claims in a bounded loop with several writers in flight, printing every
 * acknowledged write (`ACK <queue> <id>`, `CLAIM <queue> <claimId> <id,id>`) only after
 * its promise resolved. The parent kills it with SIGKILL at an arbitrary moment.
 */
import { SystemClock } from '../../../src/common/clock.js';
import { ShardedBroker } from '../../../src/cluster/sharded-broker.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: kill9-child <dataDir>');
const broker = await ShardedBroker.open({ dataDir, shardCount: 4, clock: new SystemClock() });
process.stdout.write('READY\n');

const writers = 8;
const roundsMax = 20_000;
await Promise.all(
  Array.from({ length: writers }, async (_, writer) => {
    const ref = { project: 'crash', queue: `q${writer % 5}` };
    for (let round = 0; round < roundsMax; round++) {
      const { ids } = await broker.postMessages(ref, {
        clientId: 'c0ffee00-0000-4000-8000-00000000000' + String(writer),
        messages: [{ body: { writer, round }, ttlSeconds: 3600, delaySeconds: 0 }, { body: 'x'.repeat(200), ttlSeconds: 3600, delaySeconds: 0 }],
      });
      for (const id of ids) process.stdout.write(`ACK ${ref.queue} ${id}\n`);
      if (round % 4 === 3) {
        const claim = await broker.createClaim(ref, { limit: 3, ttlSeconds: 3600, graceSeconds: 60 });
        if (claim !== null) process.stdout.write(`CLAIM ${ref.queue} ${claim.id} ${claim.messages.map((m) => m.id).join(',')}\n`);
      }
    }
  }),
);
await broker.close();

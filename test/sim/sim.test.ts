/**
 * The CI run of the Raft simulator: a fixed list of seeds, each 2,500 random events
 * (message loss, delay, reordering and duplication, partitions, crashes losing unflushed
 * writes, restarts, damaged stores, membership changes) with invariants checked after
 * every step, then a quiet phase that must converge with every acknowledged value kept.
 * A failing seed replays with `SEED=<n> npm run sim`; seeds of fixed failures join the list.
 */
import { describe, test } from 'vitest';
import { runSeed } from './simulator.js';

const steps = 2500;
/**
 * Seeds that once failed (read-context reuse, double damage, stale-conf retirement, store
 * repair, leader self-removal, damage mark forgotten on a shorter write), then 1..200.
 */
const regressionSeeds = [1535672859, 626941489, 1841700256, 1142053325, 2068520923, 424748370, 1283606976, 2020335329, 346065581, 943943700, 1648225955, 509675639, 1016701820, 692738172];
const seeds = [...regressionSeeds, ...Array.from({ length: 200 }, (_, i) => i + 1)];

describe('Raft simulation', () => {
  for (const seed of seeds) {
    test(`seed ${seed} keeps every invariant and converges`, async () => {
      await runSeed(seed, steps);
    });
  }
});

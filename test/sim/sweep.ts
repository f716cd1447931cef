/**
 * Seed sweep: `npm run sim -- --seeds N [--steps S]` runs N new random seeds and prints
 * every failing one; `SEED=<n> npm run sim` replays one seed exactly (with its trace).
 * Exit code 1 when any seed failed. Fixed failures' seeds join sim.test.ts's CI list.
 */
import { randomInt } from 'node:crypto';
import { runSeed } from './simulator.js';

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

async function main(): Promise<number> {
  const steps = Number(argValue('--steps') ?? process.env.STEPS ?? 2500);
  const replay = process.env.SEED;
  const seeds = replay !== undefined ? [Number(replay)] : Array.from({ length: Number(argValue('--seeds') ?? 100) }, () => randomInt(2 ** 31));
  const started = performance.now();
  const failing: number[] = [];
  for (const [i, seed] of seeds.entries()) {
    try {
      const sim = await runSeed(seed, steps);
      if (replay !== undefined) console.log(`seed ${seed}: ok (${sim.summary()})`);
    } catch (error) {
      failing.push(seed);
      console.log(`FAIL seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if ((i + 1) % 500 === 0) console.log(`${i + 1}/${seeds.length} seeds, ${failing.length} failing`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${seeds.length} seeds x ${steps} steps in ${seconds}s: ${failing.length} failing${failing.length > 0 ? ` (${failing.join(' ')})` : ''}`);
  return failing.length === 0 ? 0 : 1;
}

process.exitCode = await main();

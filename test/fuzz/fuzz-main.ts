/**
 * `npm run fuzz`: the long fuzz run (fuzz-session.ts). FUZZ_ROUNDS (default 5) runs of
 * 3,000 HTTP requests, 2,000 WebSocket frames and 300 cluster-port inputs each, from
 * SEED (replay) or random seeds; exits 1 at the first run with a failure, printing
 * the seed and the failing inputs.
 */
import { randomInt } from 'node:crypto';
import { runFuzz, seedFromEnv } from './fuzz-session.js';

const rounds = Number(process.env['FUZZ_ROUNDS'] ?? (seedFromEnv() === undefined ? 5 : 1));
for (let round = 0; round < rounds; round++) {
  const seed = seedFromEnv() ?? randomInt(2 ** 31);
  const report = await runFuzz({ seed, httpRequests: 3000, wsFrames: 2000, grpcInputs: 300 });
  const codes = [...report.wsCloseCodes].map(([code, count]) => `${code}×${count}`).join(' ');
  process.stdout.write(`seed ${seed}: ${report.failures.length} failures, ${report.missing.length}/${report.acknowledged} `
    + `acknowledged missing, ${report.skipped} skipped, websocket closes ${codes}\n`);
  if (report.failures.length > 0 || report.missing.length > 0) {
    for (const failure of report.failures) process.stdout.write(`  ${failure}\n`);
    for (const id of report.missing) process.stdout.write(`  missing ${id}\n`);
    process.exit(1);
  }
}

/**
 * The CI fuzz run: a bounded, seeded mix of HTTP requests, WebSocket frames and
 * cluster-port inputs (fuzz-session.ts). Every answer is well formed and below 500 (or
 * a clean close), the node keeps running, every acknowledged message is intact and a
 * genuine Raft peer still gets through. Prints the seed; SEED=<n> replays a run.
 */
import { randomInt } from 'node:crypto';
import { expect, test } from 'vitest';
import { runFuzz, seedFromEnv } from './fuzz-session.js';

test('fuzzed HTTP, WebSocket and cluster-port input gets well-formed answers and loses nothing', async () => {
  const seed = seedFromEnv() ?? randomInt(2 ** 31);
  const report = await runFuzz({ seed, httpRequests: 200, wsFrames: 150, grpcInputs: 30 });
  expect(report.failures, `seed ${seed}`).toEqual([]);
  expect(report.missing, `seed ${seed}`).toEqual([]);
  expect(report.acknowledged).toBeGreaterThan(10);
}, 180_000);

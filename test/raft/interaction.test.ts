/**
 * Scripted interaction tests of the Raft core (etcd style): each testdata/*.txt drives a
 * few RaftCores through elections, replication, faults and membership changes step by
 * step, and checks the exact messages, Readys and states against the checked-in output.
 * `REWRITE=1 npx vitest run test/raft` regenerates the outputs for review as a diff.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runScript } from './datadriven.js';
import { InteractionEnv } from './interaction-env.js';

const dir = fileURLToPath(new URL('./testdata', import.meta.url));

describe('RaftCore interaction scripts', () => {
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.txt')).sort()) {
    test(`${file} matches its recorded interaction`, () => {
      const env = new InteractionEnv();
      const mismatches = runScript(join(dir, file), (c) => env.handle(c));
      expect(mismatches.join('\n\n')).toBe('');
    });
  }
});

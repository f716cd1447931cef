/**
 * A real child process (tsx) writes through the ShardedBroker and is killed with
 * SIGKILL mid-run; reopening its data dir must find every message and claim whose
 * acknowledgement the child printed (writes resolve only once flushed), with no message
 * held by two claims.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { SystemClock } from '../../src/common/clock.js';
import { ManualTimers } from '../../src/common/timers.js';
import { ShardedBroker } from '../../src/cluster/sharded-broker.js';

const childPath = fileURLToPath(new URL('./support/kill9-child.ts', import.meta.url));
const deadlineMs = 60_000;

interface Acknowledged {
  readonly messages: Map<string, string[]>;
  readonly claims: { queue: string; id: string; messageIds: string[] }[];
}

/** Runs the child until it acknowledged `acksMin` messages and `claimsMin` claims, then SIGKILLs it. */
async function runAndKill(dataDir: string, options: { acksMin: number; claimsMin: number }): Promise<Acknowledged> {
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged: Acknowledged = { messages: new Map(), claims: [] };
  let acks = 0;
  let pending = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child acknowledged only ${acks} messages`)), deadlineMs);
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, queue = '', id = '', list = ''] = line.split(' ');
        if (kind === 'ACK') {
          acknowledged.messages.set(queue, [...(acknowledged.messages.get(queue) ?? []), id]);
          acks++;
        } else if (kind === 'CLAIM') {
          acknowledged.claims.push({ queue, id, messageIds: list.split(',') });
        }
      }
      if (acks >= options.acksMin && acknowledged.claims.length >= options.claimsMin && child.exitCode === null) {
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return acknowledged;
}

test('kill -9 mid-run loses no acknowledged message or claim', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'zaqar-kill9-'));
  try {
    const acknowledged = await runAndKill(dataDir, { acksMin: 600, claimsMin: 20 });
    const broker = await ShardedBroker.open({ dataDir, shardCount: 4, clock: new SystemClock(), timers: new ManualTimers() });
    try {
      for (const [queue, ids] of acknowledged.messages) {
        const ref = { project: 'crash', queue };
        for (let at = 0; at < ids.length; at += 20) {
          const batch = ids.slice(at, at + 20);
          const found = await broker.getMessages(ref, batch);
          expect(found.map((m) => m.id).sort()).toEqual([...batch].sort());
        }
      }
      const holder = new Map<string, string>();
      for (const claim of acknowledged.claims) {
        const stored = await broker.getClaim({ project: 'crash', queue: claim.queue }, claim.id);
        expect(stored?.messages.map((m) => m.id)).toEqual(claim.messageIds);
        for (const id of claim.messageIds) {
          expect(holder.get(id)).toBeUndefined();
          holder.set(id, claim.id);
        }
      }
    } finally {
      await broker.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

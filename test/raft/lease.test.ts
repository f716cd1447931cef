/**
 * The leader's read lease (src/raft/core/lease.ts) against the worst timing the tick
 * bound allows: three replicas driven step by step through the interaction harness, the
 * leader cut off right after a quorum answered its heartbeat, the followers' clocks half
 * a tick ahead of the leader's (each follower ticks right after the heartbeat arrived),
 * and a follower campaigning at every chance. The old leader must stop answering reads
 * from its lease before any other replica is elected and commits; a lease one tick longer
 * than the bound (or a restarted follower that votes at once, or a transfer that keeps the
 * lease) is caught.
 */
import { describe, expect, test } from 'vitest';
import { parseArgs } from './datadriven.js';
import { InteractionEnv } from './interaction-env.js';

function run(env: InteractionEnv, line: string): string {
  const words = line.split(' ');
  return env.handle({ line: 0, command: words[0] ?? '', commandLine: line, args: parseArgs(words.slice(1)), input: [], expected: '' });
}

/** A leader (node 1) of three whose lease rests on a heartbeat all answered: tick count 1 when sent. */
function leasedCluster(): InteractionEnv {
  const env = new InteractionEnv();
  run(env, 'add-nodes 3 prevote=true checkquorum=true');
  run(env, 'campaign 1');
  run(env, 'stabilize');
  run(env, 'tick-heartbeat 1');
  run(env, 'stabilize');
  return env;
}

let readSeq = 0;

/** Asks node `id` for a read and reports whether it was answered in the very next Ready (no heartbeat round). */
function isAnsweredAtOnce(env: InteractionEnv, id: number): boolean {
  const context = `r${++readSeq}`;
  const result = run(env, `read-index ${id} ${context}`);
  if (!result.includes('"ok":true')) return false;
  return run(env, `process-ready ${id}`).includes(`ReadState ctx=${context} `);
}

/** Node 2 or 3 leads and has committed an entry of its own term (it could now acknowledge writes). */
function otherLeaderCommitted(env: InteractionEnv): boolean {
  return [2, 3].some((id) => {
    const status = run(env, `status ${id}`).split('\n')[0] ?? '';
    const commit = /commit=(\d+)/.exec(status)?.[1];
    const last = /last=(\d+)/.exec(status)?.[1];
    return status.includes(': leader ') && commit === last;
  });
}

/**
 * Runs the cut-off leader against the followers for `steps` steps of one tick each: the
 * followers tick half a tick before the leader (and 2 campaigns whenever it is not
 * leading), the leader is read from just before and just after its own tick. Returns the
 * step of the last lease read and the step at which another leader committed.
 */
function raceAfterPartition(env: InteractionEnv, steps: number): { lastLeaseRead: number; otherCommitted: number } {
  let lastLeaseRead = 0;
  let otherCommitted = Number.POSITIVE_INFINITY;
  for (let step = 1; step <= steps; step++) {
    run(env, 'tick 2');
    run(env, 'tick 3');
    if (!run(env, 'status 2').includes(': leader ')) run(env, 'campaign 2');
    run(env, 'stabilize 2 3');
    if (otherCommitted === Number.POSITIVE_INFINITY && otherLeaderCommitted(env)) otherCommitted = step;
    if (isAnsweredAtOnce(env, 1)) lastLeaseRead = step;
    run(env, 'tick 1');
    if (isAnsweredAtOnce(env, 1)) lastLeaseRead = step;
    run(env, 'drop-msgs 1 2 3');
  }
  return { lastLeaseRead, otherCommitted };
}

describe('leader read lease', () => {
  test('a leader holding its lease answers reads at once, its own and forwarded ones, and they see earlier writes', () => {
    const env = leasedCluster();
    expect(run(env, 'propose 1 w1')).toContain('"ok":true');
    run(env, 'stabilize');
    const commit = /commit=(\d+)/.exec(run(env, 'status 1'))?.[1];
    run(env, 'read-index 1 after-write');
    expect(run(env, 'process-ready 1')).toContain(`ReadState ctx=after-write index=${commit}`);
    run(env, 'read-index 2 via-follower');
    const forwarded = run(env, 'stabilize');
    expect(forwarded).not.toContain('Heartbeat');
    expect(forwarded).toContain(`ReadState ctx=via-follower index=${commit}`);
  });

  test('without the lease option every read takes a heartbeat round', () => {
    const env = new InteractionEnv();
    run(env, 'add-nodes 3 prevote=true checkquorum=true lease=false');
    run(env, 'campaign 1');
    run(env, 'stabilize');
    run(env, 'tick-heartbeat 1');
    run(env, 'stabilize');
    expect(isAnsweredAtOnce(env, 1)).toBe(false);
  });

  test('a leader cut off stops answering lease reads before another replica is elected and commits', () => {
    const env = leasedCluster();
    expect(isAnsweredAtOnce(env, 1)).toBe(true);
    run(env, 'isolate 1');
    const { lastLeaseRead, otherCommitted } = raceAfterPartition(env, 30);
    expect(lastLeaseRead).toBeGreaterThan(0);
    expect(otherCommitted).toBeLessThan(30);
    expect(lastLeaseRead).toBeLessThan(otherCommitted);
  });

  test('a follower restarted right after answering the leader does not vote before the lease is over', () => {
    const env = leasedCluster();
    run(env, 'isolate 1');
    run(env, 'restart 3');
    const { lastLeaseRead, otherCommitted } = raceAfterPartition(env, 30);
    expect(lastLeaseRead).toBeGreaterThan(0);
    expect(otherCommitted).toBeLessThan(30);
    expect(lastLeaseRead).toBeLessThan(otherCommitted);
  });

  test('a leadership transfer ends the lease, and an aborted one does not bring it back in that term', () => {
    const env = leasedCluster();
    expect(isAnsweredAtOnce(env, 1)).toBe(true);
    // Node 2 is caught up: the TimeoutNow leaves with the next Ready; hold it on the way.
    expect(run(env, 'transfer-leadership 1 2')).toContain('"ok":true');
    expect(isAnsweredAtOnce(env, 1)).toBe(false);
    expect(run(env, 'drop-msgs 2 3')).toContain('TimeoutNow');
    // The transfer times out on the leader; fresh heartbeat answers must not renew the lease,
    // since a TimeoutNow sent in this term may still arrive.
    run(env, 'tick-election 1');
    run(env, 'stabilize');
    run(env, 'tick-heartbeat 1');
    run(env, 'stabilize');
    expect(isAnsweredAtOnce(env, 1)).toBe(false);
  });

  test('a new leader answers no lease read before it commits an entry of its own term', () => {
    const env = leasedCluster();
    run(env, 'transfer-leadership 1 2');
    run(env, 'process-ready 1');
    run(env, 'deliver-msgs 2');
    run(env, 'process-ready 2');
    run(env, 'deliver-msgs 1 3');
    run(env, 'process-ready 1 3');
    run(env, 'deliver-msgs 2');
    expect(run(env, 'process-ready 2')).toContain('State: leader leader=2');
    // Its first append (the no-op of its term) is lost; a heartbeat round is answered.
    run(env, 'drop-msgs 1 3');
    run(env, 'tick-heartbeat 2');
    run(env, 'process-ready 2');
    run(env, 'deliver-msgs 1 3');
    run(env, 'process-ready 1 3');
    expect(run(env, 'deliver-msgs 2')).toContain('HeartbeatResp');
    expect(run(env, 'status 2')).not.toMatch(/commit=(\d+) applied=\d+ last=\1 /);
    expect(isAnsweredAtOnce(env, 2)).toBe(false);
  });
});

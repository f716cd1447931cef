/**
 * The shards a node leads, as the notifier asks for them every tick: ClusterShardLogs
 * answers from its groups' roles without building the Raft reports the metrics scrape
 * reads (one status per group), and the answer is the reports' leaders.
 */
import { afterEach, expect, test } from 'vitest';
import { InProcessCluster, waitFor } from './support/in-process.js';

let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

test('a node lists the shards it leads without building Raft reports, and the list is the reports\' leaders', async () => {
  const c = new InProcessCluster([1, 2, 3], 4);
  cluster = c;
  for (const id of [1, 2, 3]) await c.open(id);
  await waitFor('a leader for every shard', 10_000, () => ([0, 1, 2, 3].every((shardId) => c.leaderOf(shardId) !== undefined) ? true : undefined));
  for (const node of c.nodes.values()) {
    const fromReports = node.logs.raftReports().filter((r) => r.role === 'leader').map((r) => r.shardId);
    let reportsBuilt = 0;
    const logs = node.logs as { raftReports: () => unknown };
    const raftReports = logs.raftReports.bind(node.logs);
    logs.raftReports = () => {
      reportsBuilt++;
      return raftReports();
    };
    const fromSource = [...node.broker.notificationSource().ledShards()];
    expect(reportsBuilt).toBe(0);
    expect(fromSource.sort()).toEqual(fromReports.sort());
  }
});

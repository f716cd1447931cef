/**
 * After a cluster forms, its first elections pick leaders at random; the balancer then
 * hands each shard to its preferred voter (placement.ts preferredLeader). With settle
 * passes it does so right away, not at its regular interval (a minute here, far beyond
 * the wait below), so a load started once the cluster is up sees no leader move.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../src/common/ids.js';
import { preferredLeader } from '../../src/cluster/placement.js';
import { InProcessCluster, waitFor } from './support/in-process.js';

const members = [1, 2, 3] as NodeId[];
const shardCount = 6;
let cluster: InProcessCluster | undefined;

afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

/** Each shard's leader, as the running nodes report it (undefined while one has none). */
function leaders(c: InProcessCluster): (number | undefined)[] {
  return Array.from({ length: shardCount }, (_, shardId) => c.leaderOf(shardId)?.id);
}

describe('leaders after the cluster forms', () => {
  test('move to their preferred voters in the settle passes', async () => {
    const c = new InProcessCluster(members, shardCount, { settlePassMs: 20 });
    cluster = c;
    for (const id of members) await c.open(id);
    const preferred = Array.from({ length: shardCount }, (_, shardId) => preferredLeader(shardId as ShardId, { voters: members, members }));
    await waitFor('the preferred leaders', 20_000, () => (leaders(c).every((leader, shardId) => leader === preferred[shardId]) ? true : undefined));
    expect(leaders(c)).toEqual(preferred);
  });
});

/**
 * `GET /v2/cluster` (admin, zaqar-ts extension): this node's view of the cluster
 * without the health probe's writes: each shard replica it hosts (role, leader, term,
 * commit and applied index, lag per replica on the leader) and its peers. Cheap enough
 * for operators' tools (`zaqar-ts cluster status`) and tests to poll during failover.
 */
import { BrokerError } from './errors.js';
import type { JsonValue } from './json-body.js';
import { reply, type Operation } from './operation.js';

export const clusterStatus: Operation = {
  // The same admin-only rule as the detailed health report, which embeds this section.
  policy: 'health:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    const report = call.api.broker.clusterHealth?.();
    if (report === undefined) throw new BrokerError('not_found', 'This node is not clustered.');
    return reply(200, JSON.parse(JSON.stringify(report)) as JsonValue);
  },
};

/**
 * `PUT /v2/cluster/nodes/{node_id}` and `DELETE /v2/cluster/nodes/{node_id}` (admin,
 * zaqar-ts extensions): add a node to every shard's Raft group (it joins as a learner,
 * catches up, then votes) or remove it, while the cluster keeps serving. The new node
 * must already be running and in every node's peer address book. The reply comes once
 * every shard has changed (204); a change that could not finish answers 503 and can be
 * repeated (shards already changed are left as they are).
 */
import { BrokerError } from './errors.js';
import { reply, type ApiCall, type Operation } from './operation.js';

function nodeIdOf(call: ApiCall): number {
  const raw = call.request.params['node_id'] ?? '';
  const nodeId = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(nodeId) || nodeId < 1 || nodeId > 0xffff_ffff) {
    throw new BrokerError('invalid_parameter', `Node id must be a positive integer, got "${raw}".`);
  }
  return nodeId;
}

async function changeMembership(call: ApiCall, kind: 'add' | 'remove'): Promise<void> {
  const nodeId = nodeIdOf(call);
  const broker = call.api.broker;
  if (broker.changeMembership === undefined) throw new BrokerError('not_found', 'This node is not clustered.');
  try {
    await broker.changeMembership({ kind, nodeId });
  } catch (cause) {
    throw new BrokerError('shard_unavailable', `Node ${nodeId} could not be ${kind === 'add' ? 'added' : 'removed'}. Please try again in a few seconds.`, { cause, retryAfterSeconds: 1 });
  }
}

export const addClusterNode: Operation = {
  policy: 'health:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    await changeMembership(call, 'add');
    return reply(204);
  },
};

export const removeClusterNode: Operation = {
  policy: 'health:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    await changeMembership(call, 'remove');
    return reply(204);
  },
};

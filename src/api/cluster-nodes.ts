/**
 * `PUT /v2/cluster/nodes/{node_id}` and `DELETE /v2/cluster/nodes/{node_id}` (admin,
 * zaqar-ts extensions): add a node to the cluster or remove it, while the cluster keeps
 * serving. The shards' replicas are rebalanced over the new node set, one move at a time
 * (a new replica joins as a learner, catches up, then votes; then the old one leaves).
 *
 * PUT takes an optional JSON body `{"address": "HOST:PORT"}`, the new node's cluster gRPC
 * address: it is recorded in the address book, the transport connects to it and every
 * node in the book is told, all before the membership change starts (so the learner gets
 * its appends). Without a body the address must already be known (the node joined with
 * `--join`, or is in `--peers`), else 400. DELETE drops the node's entry from every
 * book once the node left every shard. The reply comes once every move is done (204);
 * a change that could not finish answers 503 and can be repeated (each move states the
 * configuration it wants, so finished moves are left as they are).
 */
import { isNodeAddress } from '../cluster/address-book.js';
import { BrokerError, invalidBody } from './errors.js';
import { reply, type ApiCall, type Operation } from './operation.js';
import { hasContent, objectBody } from './request-body.js';

function nodeIdOf(call: ApiCall): number {
  const raw = call.request.params['node_id'] ?? '';
  const nodeId = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(nodeId) || nodeId < 1 || nodeId > 0xffff_ffff) {
    throw new BrokerError('invalid_parameter', `Node id must be a positive integer, got "${raw}".`);
  }
  return nodeId;
}

/** The body's `address`, or undefined without a body. */
function addressOf(call: ApiCall): string | undefined {
  if (!hasContent(call.request)) return undefined;
  const address = objectBody(call.request).object['address'];
  if (address === undefined) return undefined;
  if (!isNodeAddress(address)) throw invalidBody(`address must be the node's cluster address as HOST:PORT, got ${JSON.stringify(address)}.`);
  return address;
}

async function changeMembership(call: ApiCall, nodeId: number, kind: 'add' | 'remove'): Promise<void> {
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
    const nodeId = nodeIdOf(call);
    const address = addressOf(call);
    const book = call.api.addressBook;
    if (book !== undefined) {
      if (address !== undefined) await book.record(nodeId, address);
      else if (book.address(nodeId) === undefined) {
        throw invalidBody(`The cluster address of node ${nodeId} is not known: send {"address": "HOST:PORT"}.`);
      }
    }
    await changeMembership(call, nodeId, 'add');
    return reply(204);
  },
};

export const removeClusterNode: Operation = {
  policy: 'health:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    const nodeId = nodeIdOf(call);
    await changeMembership(call, nodeId, 'remove');
    await call.api.addressBook?.remove(nodeId);
    return reply(204);
  },
};

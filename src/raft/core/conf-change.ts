/**
 * Membership changes, one server at a time: a new server joins as a learner (replicated
 * to, never counted), is promoted to voter once it has caught up, and any member can be
 * removed. `add_voter` only appears in the bootstrap entries every initial member writes
 * identically, so a server that joins later learns the first configuration from the log.
 * Encoded into a ConfChange entry as 1 byte of kind + 4 bytes of node id.
 */
import { assert } from '../../common/assert.js';
import type { ConfState, NodeId } from '../types.js';

export type ConfChangeKind = 'add_learner' | 'promote' | 'remove' | 'add_voter';

export interface ConfChange {
  readonly kind: ConfChangeKind;
  readonly nodeId: NodeId;
}

const kindCodes: Readonly<Record<ConfChangeKind, number>> = { add_learner: 1, promote: 2, remove: 3, add_voter: 4 };

export function encodeConfChange(change: ConfChange): Uint8Array {
  const bytes = new Uint8Array(5);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, kindCodes[change.kind]);
  view.setUint32(1, change.nodeId);
  return bytes;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength === 5, 'conf change entry has the wrong size');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const code = view.getUint8(0);
  const kind = (Object.keys(kindCodes) as ConfChangeKind[]).find((k) => kindCodes[k] === code);
  assert(kind !== undefined, () => `unknown conf change kind ${code}`);
  return { kind, nodeId: view.getUint32(1) as NodeId };
}

/** Why `change` cannot apply to `conf`, or undefined when it can. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | undefined {
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  switch (change.kind) {
    case 'add_learner':
      return isVoter || isLearner ? `node ${change.nodeId} is already a member` : undefined;
    case 'add_voter':
      return isVoter ? `node ${change.nodeId} is already a voter` : undefined;
    case 'promote':
      return isLearner ? undefined : `node ${change.nodeId} is not a learner`;
    case 'remove':
      if (!isVoter && !isLearner) return `node ${change.nodeId} is not a member`;
      return isVoter && conf.voters.length === 1 ? 'cannot remove the last voter' : undefined;
  }
}

/** The configuration after `change`; an inapplicable change (checked at proposal) leaves it as is. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  if (confChangeProblem(conf, change) !== undefined) return conf;
  const id = change.nodeId;
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((x) => x !== id);
  switch (change.kind) {
    case 'add_learner':
      return { voters: [...conf.voters], learners: [...conf.learners, id], votersOutgoing: [] };
    case 'promote':
    case 'add_voter':
      return { voters: [...conf.voters, id], learners: without(conf.learners), votersOutgoing: [] };
    case 'remove':
      return { voters: without(conf.voters), learners: without(conf.learners), votersOutgoing: [] };
  }
}

/**
 * A ForwardRequest as it travels: one flat record, `command` always present (empty when
 * another field says what is asked). Nodes of different versions exchange it during a
 * rolling upgrade, so this shape, its field names and their order (msgpack writes keys
 * in insertion order) stay as they are; the in-process variants convert at this boundary.
 */
import { unreachable } from '../../common/assert.js';
import type { NodeId, ShardId } from '../../common/ids.js';
import type { ForwardRequest } from '../forward-protocol.js';
import type { MembershipChange } from '../membership.js';
import { shardQueryKinds, type ShardQuery } from '../shard/shard-query.js';

export interface WireForwardRequest {
  readonly shardId: ShardId;
  /** An encoded ShardCommand, or `noCommand` when one of the other fields says what is asked. */
  readonly command: Uint8Array;
  readonly membership?: MembershipChange;
  readonly query?: ShardQuery;
  readonly describe?: true;
  readonly release?: true;
  readonly bootstrap?: readonly NodeId[];
  /** Set by an asker that renders bodies as stored bytes (ForwardRequest `storedBodies`); last, so earlier records keep their bytes. */
  readonly storedBodies?: true;
  /** A command's origin (ForwardRequest `origin`); after `storedBodies`, so earlier records keep their bytes. */
  readonly origin?: NodeId;
}

/** The `command` of a request that carries none. */
const noCommand = new Uint8Array(0);

export function toWire(request: ForwardRequest): WireForwardRequest {
  const { shardId } = request;
  switch (request.kind) {
    case 'command':
      return {
        shardId,
        command: request.command,
        ...(request.storedBodies === true ? { storedBodies: true } : {}),
        ...(request.origin === undefined ? {} : { origin: request.origin }),
      };
    case 'membership':
      return { shardId, command: noCommand, membership: request.change };
    case 'query':
      return { shardId, command: noCommand, query: request.query, ...(request.storedBodies === true ? { storedBodies: true } : {}) };
    case 'describe':
      return { shardId, command: noCommand, describe: true };
    case 'release':
      return { shardId, command: noCommand, release: true };
    case 'bootstrap':
      return { shardId, command: noCommand, bootstrap: request.voters };
    default:
      return unreachable(request, 'forward request');
  }
}

/** The variant a (checked) wire request asks for; should a peer set several fields, the first of bootstrap, release, describe, query, membership wins, as it always did. */
export function fromWire(wire: WireForwardRequest): ForwardRequest {
  const { shardId } = wire;
  if (wire.bootstrap !== undefined) return { kind: 'bootstrap', shardId, voters: wire.bootstrap };
  if (wire.release === true) return { kind: 'release', shardId };
  if (wire.describe === true) return { kind: 'describe', shardId };
  const stored = wire.storedBodies === true ? { storedBodies: true } as const : {};
  if (wire.query !== undefined) return { kind: 'query', shardId, query: wire.query, ...stored };
  if (wire.membership !== undefined) return { kind: 'membership', shardId, change: wire.membership };
  return { kind: 'command', shardId, command: wire.command, ...stored, ...(wire.origin === undefined ? {} : { origin: wire.origin }) };
}

export function isWireForwardRequest(value: unknown): value is WireForwardRequest {
  if (typeof value !== 'object' || value === null) return false;
  const { shardId, command, membership, query, describe, release, bootstrap, storedBodies, origin } = value as Record<string, unknown>;
  return typeof shardId === 'number' && Number.isSafeInteger(shardId) && shardId >= 0 && command instanceof Uint8Array
    && (membership === undefined || isMembershipChange(membership)) && (query === undefined || isShardQuery(query))
    && (describe === undefined || describe === true) && (release === undefined || release === true)
    && (storedBodies === undefined || storedBodies === true)
    && (origin === undefined || (typeof origin === 'number' && Number.isSafeInteger(origin) && origin > 0))
    && (bootstrap === undefined || (Array.isArray(bootstrap) && bootstrap.every((n) => typeof n === 'number')));
}

/** Only the kind is checked: peers are trusted cluster members (mutual TLS), this guards against version skew. */
function isShardQuery(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { kind } = value as Record<string, unknown>;
  return shardQueryKinds.some((known) => known === kind);
}

function isMembershipChange(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, nodeId } = value as Record<string, unknown>;
  return (kind === 'add' || kind === 'remove') && typeof nodeId === 'number' && Number.isSafeInteger(nodeId) && nodeId > 0;
}

/**
 * Wire format of the Raft gRPC stream: the service definition, its (de)serializers and
 * the frames they carry.
 *
 * Why msgpack (msgpackr) rather than protobuf: RaftMessage is an open record whose
 * type-specific fields belong to the core (`readonly [field: string]: unknown`), so a
 * .proto schema would have to mirror every message type of the core and change with it,
 * or wrap an opaque blob anyway. msgpack encodes the objects as they are, keeps entry
 * data and snapshot chunks as raw bytes (no base64, no copy into a wrapper), needs no
 * codegen step, and msgpackr is already the project's encoder (WebSocket, FSM commands).
 * Protobuf's advantages (schema evolution checks, cross-language peers) do not apply to
 * a node-to-node channel between identical builds of one program.
 *
 * A frame is a sequence of msgpack values, one per message, encoded when the message is
 * queued (so queue bounds are in real bytes) and concatenated when the frame is written.
 * The first frame in each direction is a hello naming sender and receiver.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { Packr } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { NodeId, RaftMessage } from '../types.js';

/**
 * One gRPC message of the stream. Written: msgpack-encoded values (Buffers) to
 * concatenate. Read: the decoded values (a frame that does not decode reads as one
 * value that is neither a hello nor a message, so it is counted and ignored).
 */
export type Frame = readonly unknown[];

const packr = new Packr({ useRecords: false, moreTypes: false });
const helloProtocol = 'zaqar-raft/1';

export const raftStreamPath = '/zaqar.raft.Raft/Stream';

const malformedFrame = Symbol('malformed frame');

export function serializeFrame(frame: Frame): Buffer {
  const parts = frame.map((part) => {
    assert(Buffer.isBuffer(part), 'frames are written as pre-encoded values');
    return part;
  });
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
}

export function deserializeFrame(bytes: Buffer): Frame {
  try {
    return packr.unpackMultiple(bytes) ?? [];
  } catch {
    // A peer sending garbage is a peer to ignore, not a reason to crash this node.
    return [malformedFrame];
  }
}

/** The one method of the service: a bidirectional stream of frames. */
export const raftStreamMethod: MethodDefinition<Frame, Frame> = {
  path: raftStreamPath,
  requestStream: true,
  responseStream: true,
  requestSerialize: serializeFrame,
  requestDeserialize: deserializeFrame,
  responseSerialize: serializeFrame,
  responseDeserialize: deserializeFrame,
};

export const raftServiceDefinition = { stream: raftStreamMethod };

export function encodeMessage(message: RaftMessage): Buffer {
  return packr.pack(message);
}

export function helloFrame(from: NodeId, to: NodeId): Frame {
  return [packr.pack({ hello: helloProtocol, from, to })];
}

/** The hello a frame carries, if it is a well-formed hello frame. */
export function parseHello(frame: Frame): { from: NodeId; to: NodeId } | undefined {
  const value: unknown = frame.length === 1 ? frame[0] : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const { hello, from, to } = value as Record<string, unknown>;
  if (hello !== helloProtocol || !isNodeId(from) || !isNodeId(to)) return undefined;
  return { from, to };
}

export function isRaftMessage(value: unknown): value is RaftMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { shardId, from, to, term, type } = value as Record<string, unknown>;
  return [shardId, term, type].every(isCount) && isNodeId(from) && isNodeId(to);
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isNodeId(value: unknown): value is NodeId {
  return isCount(value) && (value as number) > 0;
}

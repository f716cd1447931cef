/**
 * The forwarding wire format is shared with nodes of other versions (rolling upgrades):
 * each in-process variant must encode to exactly the bytes of the flat record earlier
 * versions sent, and each such record must decode to its variant.
 */
import { describe, expect, test } from 'vitest';
import type { NodeId, ShardId } from '../../common/ids.js';
import type { ForwardRequest } from '../forward-protocol.js';
import { fromWire, isWireForwardRequest, toWire } from './forward-wire.js';
import { decode, encode } from './msgpack-unary.js';

const shardId = 7 as ShardId;
const noCommand = new Uint8Array(0);
const command = new Uint8Array([0x81, 0xa1, 0x74, 0x01]);
const query = { kind: 'metadata', ref: { project: 'p', queue: 'q' } } as const;

/** Each variant, the record earlier versions built for it, and that record's bytes (msgpack, hex). */
const cases: readonly { readonly variant: ForwardRequest; readonly flat: object; readonly hex: string }[] = [
  {
    variant: { kind: 'command', shardId, command },
    flat: { shardId, command },
    hex: 'de0002a77368617264496407a7636f6d6d616e64c40481a17401',
  },
  {
    variant: { kind: 'membership', shardId, change: { kind: 'add', nodeId: 4 as NodeId } },
    flat: { shardId, command: noCommand, membership: { kind: 'add', nodeId: 4 } },
    hex: 'de0003a77368617264496407a7636f6d6d616e64c400aa6d656d62657273686970de0002a46b696e64a3616464a66e6f6465496404',
  },
  {
    variant: { kind: 'query', shardId, query },
    flat: { shardId, command: noCommand, query },
    hex: 'de0003a77368617264496407a7636f6d6d616e64c400a57175657279de0002a46b696e64a86d65746164617461a3726566de0002a770726f6a656374a170a57175657565a171',
  },
  {
    variant: { kind: 'describe', shardId },
    flat: { shardId, command: noCommand, describe: true },
    hex: 'de0003a77368617264496407a7636f6d6d616e64c400a86465736372696265c3',
  },
  {
    variant: { kind: 'release', shardId },
    flat: { shardId, command: noCommand, release: true },
    hex: 'de0003a77368617264496407a7636f6d6d616e64c400a772656c65617365c3',
  },
  {
    variant: { kind: 'bootstrap', shardId, voters: [1, 2, 3] as NodeId[] },
    flat: { shardId, command: noCommand, bootstrap: [1, 2, 3] },
    hex: 'de0003a77368617264496407a7636f6d6d616e64c400a9626f6f74737472617093010203',
  },
];

/** What a serving node reads from `bytes` (the guard must accept them). */
function received(bytes: Buffer): ForwardRequest {
  const value = decode(bytes);
  if (!isWireForwardRequest(value)) throw new Error(`refused: ${bytes.toString('hex')}`);
  return fromWire(value);
}

/** Uint8Array views (decoding yields Buffers) so variants compare by content. */
function plain(request: ForwardRequest): ForwardRequest {
  return request.kind === 'command' ? { ...request, command: new Uint8Array(request.command) } : request;
}

describe('the forward request on the wire', () => {
  test.each(cases.map((c) => [c.variant.kind, c] as const))('a %s request encodes to the bytes earlier versions sent', (_, { variant, flat, hex }) => {
    expect(encode(flat).toString('hex')).toBe(hex);
    expect(encode(toWire(variant)).toString('hex')).toBe(hex);
  });

  test.each(cases.map((c) => [c.variant.kind, c] as const))('a %s request from an earlier version decodes to its variant', (_, { variant, hex }) => {
    expect(plain(received(Buffer.from(hex, 'hex')))).toEqual(variant);
  });

  test('a record setting several fields is read with the precedence the serving side always gave them', () => {
    expect(received(encode({ shardId, command: noCommand, query, describe: true, bootstrap: [2] }))).toEqual({ kind: 'bootstrap', shardId, voters: [2] });
    expect(received(encode({ shardId, command: noCommand, membership: { kind: 'remove', nodeId: 3 }, query }))).toEqual({ kind: 'query', shardId, query });
  });

  test('an asker that renders stored body bytes says so after the fields earlier versions read, which still decode as before', () => {
    const asking: ForwardRequest[] = [{ kind: 'command', shardId, command, storedBodies: true }, { kind: 'query', shardId, query, storedBodies: true }];
    for (const variant of asking) {
      const bytes = encode(toWire(variant));
      expect(plain(received(bytes))).toEqual(variant);
      // What an earlier version reads: the same record with one field it does not know.
      const { storedBodies, ...earlier } = decode(bytes) as Record<string, unknown>;
      expect(storedBodies).toBe(true);
      expect(plain(received(encode(earlier)))).toEqual({ ...variant, storedBodies: undefined });
    }
    expect(isWireForwardRequest({ shardId, command, storedBodies: 1 })).toBe(false);
  });

  test('a command\'s origin travels after every earlier field, and a record without it (an earlier version\'s) decodes as before', () => {
    const variant: ForwardRequest = { kind: 'command', shardId, command, storedBodies: true, origin: 3 as NodeId };
    const bytes = encode(toWire(variant));
    expect(Object.keys(decode(bytes) as object)).toEqual(['shardId', 'command', 'storedBodies', 'origin']);
    expect(plain(received(bytes))).toEqual(variant);
    const { origin, ...earlier } = decode(bytes) as Record<string, unknown>;
    expect(origin).toBe(3);
    expect(plain(received(encode(earlier)))).toEqual({ kind: 'command', shardId, command, storedBodies: true });
    expect(encode(toWire({ kind: 'command', shardId, command, origin: 3 as NodeId })).toString('hex')).toBe(`${cases[0]?.hex.replace(/^de0002/, 'de0003')}a66f726967696e03`);
    for (const bad of [0, -1, 1.5, '3']) expect(isWireForwardRequest({ shardId, command, origin: bad })).toBe(false);
  });
});

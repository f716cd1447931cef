/**
 * The frame codec: messages and hellos survive a round trip through the gRPC
 * (de)serializers; garbage and misshapen values are recognised as neither.
 */
import { expect, test } from 'vitest';
import type { NodeId, RaftMessage, ShardId, Term } from '../types.js';
import { deserializeFrame, encodeMessage, helloFrame, isRaftMessage, parseHello, serializeFrame } from './frame-codec.js';

const message: RaftMessage = { shardId: 3 as ShardId, from: 1 as NodeId, to: 2 as NodeId, term: 5 as Term, type: 1, commit: 9 };

test('messages of one frame round-trip in order', () => {
  const frame = deserializeFrame(serializeFrame([encodeMessage(message), encodeMessage({ ...message, commit: 10 })]));
  expect(frame).toEqual([message, { ...message, commit: 10 }]);
  expect(frame.every(isRaftMessage)).toBe(true);
});

test('a hello frame parses back to its sender and receiver', () => {
  expect(parseHello(deserializeFrame(serializeFrame(helloFrame(1 as NodeId, 2 as NodeId))))).toEqual({ from: 1, to: 2 });
  expect(parseHello(deserializeFrame(serializeFrame([encodeMessage(message)])))).toBeUndefined();
});

test('garbage and misshapen messages are neither hellos nor messages', () => {
  const garbage = deserializeFrame(Buffer.from([0xc1, 0xc1, 0xc1]));
  expect(parseHello(garbage)).toBeUndefined();
  expect(garbage.some(isRaftMessage)).toBe(false);
  expect(isRaftMessage({ ...message, from: 0 })).toBe(false);
  expect(isRaftMessage({ ...message, term: -1 })).toBe(false);
  expect(isRaftMessage({ ...message, shardId: '3' })).toBe(false);
});

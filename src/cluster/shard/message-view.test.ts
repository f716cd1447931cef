import { expect, test } from 'vitest';
import { renderMessage } from '../../api/render.js';
import { decode, encode } from '../grpc/msgpack-unary.js';
import type { MessageRecord } from '../records.js';
import { encodeBody } from './body-codec.js';
import { withDecodedBodies } from './message-view.js';

const stored = (id: string, body: unknown): MessageRecord =>
  ({ id, seq: 1, body: encodeBody(body), ttlSeconds: 60, createdMs: 0, claimId: null, claimCount: 0 });

test('withDecodedBodies decodes the bodies of claim, pop and listing answers and leaves other results as they are', () => {
  const a = stored('a', { n: 1 });
  const b = stored('b', 'text');
  const decoded = [{ ...a, body: { n: 1 } }, { ...b, body: 'text' }];
  expect(withDecodedBodies({ claim: { id: 'c', ttlSeconds: 60, updatedMs: 0, messages: [a, b] }, outboxSeqs: [3] }))
    .toEqual({ claim: { id: 'c', ttlSeconds: 60, updatedMs: 0, messages: decoded }, outboxSeqs: [3] });
  expect(withDecodedBodies({ messages: [a, b] })).toEqual({ messages: decoded });
  expect(withDecodedBodies({ messages: [a, b], includesDelayed: false })).toEqual({ messages: decoded, includesDelayed: false });
  expect(withDecodedBodies([a, b])).toEqual(decoded);
  expect(withDecodedBodies(decoded)).toEqual(decoded);
  for (const other of [{ claim: null, outboxSeqs: [] }, { deleted: true }, null, 3, { seqs: [1, 2] }]) expect(withDecodedBodies(other)).toEqual(other);
});

test('a message forwarded with its body decoded renders as the stored one does', () => {
  const message = stored('a', { n: [1, 'x'] });
  const forwarded = (decode(encode(withDecodedBodies([message]))) as MessageRecord[])[0];
  expect(forwarded?.body).toEqual({ n: [1, 'x'] });
  const local = JSON.stringify(renderMessage('q', message, 5000));
  expect(forwarded === undefined ? undefined : JSON.stringify(renderMessage('q', forwarded, 5000))).toBe(local);
});

/**
 * fieldExtent finds exactly the bytes of a top-level field of plain MessagePack
 * documents and declines everything else; a reply spliced from those bytes is the
 * document encodeFrame would have sent.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import type { JsonValue } from '../../api/json-body.js';
import { fieldExtent, postFrameLayout } from './msgpack-extent.js';
import { checkEnvelope, decodeFrame, encodeFrame, encodeResponse, response } from './protocol.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const headers = { 'Client-ID': 'c', 'X-Project-ID': 'p' };

describe('fieldExtent', () => {
  test('fieldExtent gives the bytes of the field value, whatever the value', () => {
    fc.assert(fc.property(fc.jsonValue(), (body) => {
      const frame = packr.pack({ action: 'message_post', headers, body, extra: [1, 'two'] });
      const extent = fieldExtent(frame, 'body');
      expect(extent).toBeDefined();
      expect(unpackr.unpack(frame.subarray(extent?.start, extent?.end))).toEqual(unpackr.unpack(packr.pack(body)));
    }), { numRuns: 200 });
  });

  test('fieldExtent takes the last of repeated keys and sees long strings, arrays and maps', () => {
    const long = 'x'.repeat(70_000);
    const frame = Buffer.concat([Buffer.from([0x83]), packr.pack(['body', 1, 'pad', long, 'body', { a: [long] }]).subarray(1)]);
    const extent = fieldExtent(frame, 'body');
    expect(unpackr.unpack(frame.subarray(extent?.start, extent?.end))).toEqual({ a: [long] });
  });

  test('fieldExtent declines what is not a plain document: bin, ext, non-string keys, truncation, no map', () => {
    expect(fieldExtent(packr.pack({ body: { data: new Uint8Array([1]) } }), 'body')).toBeUndefined();
    expect(fieldExtent(packr.pack({ body: [new Date(0)] }), 'body')).toBeUndefined();
    expect(fieldExtent(packr.pack({ body: new Map([[1, 'one']]) }), 'body')).toBeUndefined();
    const whole = packr.pack({ action: 'x', body: { text: 'y'.repeat(300) } });
    expect(fieldExtent(whole.subarray(0, whole.length - 10), 'body')).toBeUndefined();
    expect(fieldExtent(Buffer.concat([whole, Buffer.from([0xc0])]), 'body')).toBeUndefined();
    expect(fieldExtent(packr.pack(['body', 1]), 'body')).toBeUndefined();
    expect(fieldExtent(packr.pack({ action: 'x' }), 'body')).toBeUndefined();
  });
});

describe('postFrameLayout', () => {
  /** A message_post frame around `body`, the MessagePack bytes of its body. */
  const frameWith = (body: Uint8Array): Buffer => Buffer.concat([Buffer.from([0x82]), packr.pack('action'), packr.pack('message_post'), packr.pack('body'), body]);
  const messageBodyExtents = (body: Uint8Array): ({ start: number; end: number } | undefined)[] | undefined => {
    const frame = frameWith(body);
    const layout = postFrameLayout(frame);
    const offset = frame.length - body.length;
    return layout?.messageBodies.map((extent) => (extent === undefined ? undefined : { start: extent.start - offset, end: extent.end - offset }));
  };
  const item = fc.oneof(fc.record({ ttl: fc.integer(), body: fc.jsonValue() }), fc.record({ ttl: fc.integer() }), fc.jsonValue());

  test('its message bodies are the bytes of each message body, as the decoded messages hold it', () => {
    fc.assert(fc.property(fc.array(item, { maxLength: 12 }), (messages) => {
      const body = packr.pack({ queue_name: 'q', messages });
      const decoded = unpackr.unpack(body) as { messages: unknown[] };
      const extents = messageBodyExtents(body);
      expect(extents).toHaveLength(decoded.messages.length);
      decoded.messages.forEach((message, index) => {
        const extent = extents?.[index];
        const isMessage = typeof message === 'object' && message !== null && !Array.isArray(message) && 'body' in message;
        expect(extent !== undefined).toBe(isMessage);
        if (extent !== undefined && isMessage) {
          expect(unpackr.unpack(body.subarray(extent.start, extent.end))).toEqual((message as { body: unknown }).body);
        }
      });
    }), { numRuns: 200 });
  });

  test('it takes the last of repeated keys and declines a body without a messages array', () => {
    const item = Buffer.concat([Buffer.from([0x82]), packr.pack(['body', 1, 'body', { a: 'b' }]).subarray(1)]);
    const body = Buffer.concat([Buffer.from([0x82]), packr.pack(['messages', 'none', 'messages']).subarray(1), Buffer.from([0x91]), item]);
    const extent = messageBodyExtents(body)?.[0];
    expect(unpackr.unpack(body.subarray(extent?.start, extent?.end))).toEqual({ a: 'b' });
    expect(messageBodyExtents(packr.pack({ messages: 'none' }))).toBeUndefined();
    expect(messageBodyExtents(packr.pack(['messages', []]))).toBeUndefined();
    const whole = packr.pack({ messages: [{ body: 'x'.repeat(300) }] });
    expect(messageBodyExtents(whole.subarray(0, whole.length - 10))).toBeUndefined();
  });
});

describe('encodeResponse', () => {
  test('a binary reply spliced from the frame decodes as the encoded reply does', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue()), fc.jsonValue(), (messages, replyBody) => {
      const frame = packr.pack({ action: 'message_post', headers, body: { queue_name: 'q', messages } });
      const decoded = decodeFrame(frame, true);
      const checked = decoded.ok ? checkEnvelope(decoded.value, frame) : undefined;
      if (checked === undefined || !checked.ok) throw new Error('the frame is valid');
      expect(checked.value.echoBodyBytes).toBeDefined();
      const document = response(checked.value.echo, { status: 201, body: replyBody as JsonValue });
      const spliced = encodeResponse(checked.value, document, true);
      expect(unpackr.unpack(spliced as Uint8Array)).toEqual(unpackr.unpack(encodeFrame(document, true) as Uint8Array));
    }), { numRuns: 200 });
  });

  test('text replies and replies echoing another request are encoded whole', () => {
    const checked = checkEnvelope({ action: 'queue_list', headers, body: { limit: 1 } });
    if (!checked.ok) throw new Error('the envelope is valid');
    expect(checked.value.echoBodyBytes).toBeUndefined();
    const document = response(checked.value.echo, { status: 200, body: { queues: [] } });
    expect(encodeResponse(checked.value, document, false)).toBe(JSON.stringify(document));
  });
});

/**
 * fieldExtent finds exactly the bytes of a top-level field of plain MessagePack
 * documents and declines everything else; a reply spliced from those bytes is the
 * document encodeFrame would have sent.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import type { JsonValue } from '../../api/json-body.js';
import { fieldExtent } from './msgpack-extent.js';
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

/**
 * The envelope pipeline of zaqar-websocket.md §5 as pure functions: decoding never
 * throws whatever the bytes (property), and each failing step gives its documented
 * 400 body; a valid envelope comes out with its echo.
 */
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import { EncodedJson } from '../../api/encoded-json.js';
import { isJsonObject, type JsonValue } from '../../api/json-body.js';
import { checkEnvelope, decodeFrame, encodeFrame, readFrame } from './protocol.js';
import { pythonJsonLength } from './python-json-length.js';

const packr = new Packr({ useRecords: false });
const headers = { 'Client-ID': 'c', 'X-Project-ID': 'p' };

describe('decodeFrame', () => {
  test('decodeFrame never throws and answers 400 for anything it cannot read', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, isBinary) => {
      const decoded = decodeFrame(bytes, isBinary);
      if (!decoded.ok) expect(decoded.response.headers.status).toBe(400);
    }));
  });

  test('decodeFrame refuses trailing MessagePack bytes and values JSON cannot hold', () => {
    const trailing = decodeFrame(Buffer.from('123'), true);
    expect(trailing.ok ? undefined : trailing.response.body).toEqual({
      error: "Can't decode binary (MessagePack) request. ExtraData: unpack(b) received extra data." });
    expect(decodeFrame(packr.pack({ data: new Uint8Array([1]) }), true).ok).toBe(false);
  });

  test('decodeFrame reads JSON text and MessagePack maps alike', () => {
    const document = { action: 'queue_list', headers, body: { limit: 2 } };
    expect(decodeFrame(Buffer.from(JSON.stringify(document)), false)).toEqual({ ok: true, value: document });
    expect(decodeFrame(packr.pack(document), true)).toEqual({ ok: true, value: document });
  });
});

describe('readFrame', () => {
  const wholeDecoder = new Unpackr({ useRecords: false, mapsAsObjects: true });

  test('a binary message post keeps its messages\' bodies as their bytes and reads as the whole frame decoded', () => {
    const item = fc.oneof(fc.record({ ttl: fc.integer(), body: fc.jsonValue() }), fc.record({ body: fc.jsonValue(), delay: fc.integer() }),
      fc.record({ ttl: fc.integer() }), fc.jsonValue());
    fc.assert(fc.property(fc.array(item, { maxLength: 12 }), (messages) => {
      const frame = packr.pack({ action: 'message_post', headers, body: { queue_name: 'q', messages } });
      const read = readFrame(frame, true);
      if (!read.ok) throw new Error('the frame is valid');
      const { value, bodyBytes, pythonLengthAtMost } = read.value;
      expect(JSON.parse(JSON.stringify(value))).toEqual(JSON.parse(JSON.stringify(wholeDecoder.unpack(frame))));
      expect(wholeDecoder.unpack(bodyBytes ?? new Uint8Array())).toEqual(wholeDecoder.unpack(frame).body);
      const posted = isJsonObject(value) && isJsonObject(value['body']) ? value['body']['messages'] as JsonValue[] : [];
      posted.forEach((message, i) => {
        const sent = messages[i] as JsonValue | undefined;
        const hasBody = isJsonObject(sent) && Object.hasOwn(sent, 'body');
        expect(isJsonObject(message) && message['body'] instanceof EncodedJson).toBe(hasBody);
        if (hasBody) expect(pythonJsonLength(message)).toBeLessThanOrEqual(pythonLengthAtMost);
      });
    }), { numRuns: 300 });
  });

  test('a binary message post whose bodies JSON cannot hold is refused as any frame holding them', () => {
    const frameWith = (bodyBytes: Uint8Array): Buffer => {
      const marker = packr.pack({ action: 'message_post', headers, body: { queue_name: 'q', messages: [{ ttl: 60, body: 'X' }] } });
      const at = marker.indexOf(Buffer.from([0xa1, 0x58])); // the body "X"
      return Buffer.concat([marker.subarray(0, at), bodyBytes, marker.subarray(at + 2)]);
    };
    expect(readFrame(frameWith(Buffer.from([0xa1, 0x59])), true).ok).toBe(true);
    for (const bytes of [
      [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
      [0x81, 0xa1, 0x61, 0xca, 0x7f, 0x80, 0, 0], // {"a": Infinity} as float32
      [0xcf, 0, 0, 1, 0x8c, 0, 0, 0, 0], // uint64: a BigInt
      [0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], // int64
      [0xc4, 1, 0], // bin
      [0xd6, 0xff, 0, 0, 0, 0], // timestamp ext
    ]) {
      const read = readFrame(frameWith(Buffer.from(bytes)), true);
      expect(read.ok, `body ${Buffer.from(bytes).toString('hex')}`).toBe(false);
    }
  });

  /** Every value inside `value` (itself included), to check the bound against each. */
  function* values(value: JsonValue): Generator<JsonValue> {
    yield value;
    if (Array.isArray(value)) for (const item of value) yield* values(item);
    else if (isJsonObject(value)) for (const key in value) yield* values(value[key] ?? null);
  }

  test('readFrame bounds the longest number text, 17 digits after -0.00000', () => {
    const read = readFrame(packr.pack(-0.0000012683042817235791), true);
    expect(read.ok && read.value.pythonLengthAtMost).toBeGreaterThanOrEqual(pythonJsonLength(-0.0000012683042817235791));
  });

  test('readFrame bounds the Python JSON length of every value in a frame, MessagePack or JSON', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\u0000\u007f"\\', '\ud800', 'é😀'));
    const value = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(), text, fc.array(tie('value')), fc.dictionary(text, tie('value'))),
    })).value as fc.Arbitrary<JsonValue>;
    fc.assert(fc.property(value, fc.boolean(), (document, isBinary) => {
      const frame = isBinary ? packr.pack(document) : Buffer.from(JSON.stringify(document));
      const read = readFrame(frame, isBinary);
      if (!read.ok) throw new Error('the frame is valid');
      for (const inner of values(read.value.value)) expect(pythonJsonLength(inner)).toBeLessThanOrEqual(read.value.pythonLengthAtMost);
    }), { numRuns: 300 });
  });

  test('readFrame bounds the length of JSON numbers written longer than their text', () => {
    const read = readFrame(Buffer.from('[1e999, 1e21, 5e-7, false]'), false);
    expect(read.ok && read.value.pythonLengthAtMost).toBeGreaterThanOrEqual(pythonJsonLength([1e999, 1e21, 5e-7, false]));
  });
});

describe('checkEnvelope', () => {
  const errorOf = (document: Parameters<typeof checkEnvelope>[0]): unknown => {
    const checked = checkEnvelope(document);
    return checked.ok ? undefined : checked.response.body;
  };

  test('checkEnvelope applies the type, action and schema steps in order', () => {
    expect(errorOf([1])).toEqual({ error: 'Unexpected body type. Expected dict or dict like.' });
    expect(errorOf({ headers })).toEqual({ error: 'None is not a valid action' });
    expect(errorOf({ action: 'nope' })).toEqual({ error: 'nope is not a valid action' });
    expect(errorOf({ action: 'queue_list' })).toEqual({ error: 'Schema validation failed.' });
    expect(errorOf({ action: 'claim_create', headers, body: { queue_name: 'q', ttl: true } }))
      .toEqual({ error: 'Schema validation failed.' });
    expect(errorOf({ action: 'message_delete_many', headers, body: { queue_name: 'q', pop: 2 } })).toBeUndefined();
  });

  test('checkEnvelope echoes the request with an empty body when none was sent', () => {
    const checked = checkEnvelope({ action: 'queue_list', headers, extra: 1 });
    expect(checked.ok && checked.value.echo).toEqual({ action: 'queue_list', body: {}, headers, api: 'v2' });
  });
});

describe('encodeFrame with stored message bodies', () => {
  /** `{"n": 1.0, "s": "x"}` with the float as a float64, as a Python client packs it: decoding and encoding again makes it an int. */
  const stored = Uint8Array.from([0x82, 0xa1, 0x6e, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xa1, 0x73, 0xa1, 0x78]);
  const document = { body: { messages: [{ id: 'a', body: new EncodedJson(stored) }, { id: 'b', body: new EncodedJson(stored) }] } };

  test('a MessagePack reply carries the stored bytes of each body as they are', () => {
    const frame = Buffer.from(encodeFrame(document, true) as Uint8Array);
    const first = frame.indexOf(stored);
    expect(first).toBeGreaterThan(0);
    expect(frame.indexOf(stored, first + stored.length)).toBeGreaterThan(first);
    expect(packr.unpack(frame)).toEqual({ body: { messages: [{ id: 'a', body: { n: 1, s: 'x' } }, { id: 'b', body: { n: 1, s: 'x' } }] } });
  });

  test('a JSON reply holds the decoded bodies', () => {
    expect(JSON.parse(encodeFrame(document, false) as string)).toEqual({
      body: { messages: [{ id: 'a', body: { n: 1, s: 'x' } }, { id: 'b', body: { n: 1, s: 'x' } }] } });
  });

  test('the extension type the encoder claims reads as any other unknown type', () => {
    const errorOf = (frame: number[]): unknown => {
      const decoded = decodeFrame(Uint8Array.from(frame), true);
      return decoded.ok ? undefined : decoded.response.body;
    };
    for (const [claimed, other] of [[[0xd4, 0x4a, 0], [0xd4, 0x4b, 0]], [[0xc7, 1, 0x4a, 0], [0xc7, 1, 0x4b, 0]]]) {
      expect(JSON.stringify(errorOf(claimed ?? []))).toBe(JSON.stringify(errorOf(other ?? [])).replace('75', '74'));
    }
  });
});

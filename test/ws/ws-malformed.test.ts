/**
 * Malformed frames against the real server process (zaqar-websocket.md §5): each gets
 * the documented 400 reply in its own encoding (bad JSON, BOM, bad or trailing
 * MessagePack, MessagePack values JSON cannot hold, non-object documents, missing or
 * unknown actions, wrong header/body types, missing required keys); a text frame that
 * is not UTF-8 or a frame beyond `ws_max_payload_bytes` makes uWS drop that connection,
 * and too many queued requests close the socket with 1008. After each, the same socket
 * (when still open), another socket and the HTTP API keep working.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { exchange, RawWs } from './raw-ws.js';

const maxPayloadBytes = 64 * 1024;
let server: LaunchedServer;
let wsUrl: string;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': `p-${randomUUID()}` };
const emptyEcho = { action: null, body: {}, headers: {}, api: 'v2' };

beforeAll(async () => {
  server = await LaunchedServer.start({ config: {
    ws_max_payload_bytes: maxPayloadBytes, ws_in_flight_per_socket_max: 1, ws_queued_per_socket_max: 8,
  } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/`;
});

afterAll(async () => {
  await server?.stop();
});

interface Reply {
  readonly request: unknown;
  readonly headers: { readonly status: number };
  readonly body: { readonly error?: string };
}

async function expectServing(ws?: RawWs): Promise<void> {
  const other = await RawWs.open(wsUrl);
  for (const socket of ws === undefined ? [other] : [ws, other]) {
    const reply = await exchange(socket, { action: 'queue_list', headers }, 'json');
    expect((reply.document as Reply).headers.status).toBe(200);
  }
  await other.close();
  const http = await fetch(`${server.url}/v2/queues`, { headers });
  expect(http.status).toBe(200);
}

/** Sends one bad frame on a fresh socket and checks the 400 reply, its encoding, and that all keeps working. */
async function expectErrorReply(send: (ws: RawWs) => void, isBinary: boolean, error: RegExp | string): Promise<void> {
  const ws = await RawWs.open(wsUrl);
  send(ws);
  const frame = await ws.next();
  const reply = frame.document as Reply;
  expect(frame.isBinary).toBe(isBinary);
  expect(reply.headers).toEqual({ status: 400 });
  if (typeof error === 'string') expect(reply.body.error).toBe(error);
  else expect(reply.body.error).toMatch(error);
  await expectServing(ws);
  await ws.close();
}

describe('malformed text frames', () => {
  const cases: Array<[string, string | Buffer, RegExp | string]> = [
    ['invalid JSON', 'foo', /^Can't decode text \(JSON\) request\. JSONDecodeError: /],
    ['a leading BOM', '\ufeff{}', /^Can't decode text \(JSON\) request\./],
    ['a number', '123', 'Unexpected body type. Expected dict or dict like.'],
    ['a list', '[1, 2]', 'Unexpected body type. Expected dict or dict like.'],
    ['no action', JSON.stringify({ headers }), 'None is not a valid action'],
    ['an unknown action', JSON.stringify({ action: 'queue_glorify', headers }), 'queue_glorify is not a valid action'],
    ['a non-string action', JSON.stringify({ action: 5, headers }), '5 is not a valid action'],
    ['no headers', JSON.stringify({ action: 'queue_list' }), 'Schema validation failed.'],
    ['a missing project header', JSON.stringify({ action: 'queue_get', headers: { 'Client-ID': headers['Client-ID'] },
      body: { queue_name: 'q' } }), 'Schema validation failed.'],
    ['a non-string header', JSON.stringify({ action: 'queue_list', headers: { ...headers, 'X-Project-ID': 5 } }),
      'Schema validation failed.'],
    ['a string where an integer belongs', JSON.stringify({ action: 'claim_create', headers,
      body: { queue_name: 'q', limit: '5' } }), 'Schema validation failed.'],
    ['a string body', JSON.stringify({ action: 'claim_create', headers, body: 'fail' }), 'Schema validation failed.'],
    ['a missing required body key', JSON.stringify({ action: 'message_get', headers, body: { queue_name: 'q' } }),
      'Schema validation failed.'],
  ];

  for (const [name, payload, error] of cases) {
    test(`a frame with ${name} gets a 400 text reply and the socket keeps working`, async () => {
      await expectErrorReply((ws) => ws.sendText(payload), false, error);
    });
  }

  test('decode and type failures echo the empty request', async () => {
    const ws = await RawWs.open(wsUrl);
    ws.sendText('foo');
    expect(((await ws.next()).document as Reply).request).toEqual(emptyEcho);
    await ws.close();
  });
});

describe('malformed binary frames', () => {
  const cases: Array<[string, Uint8Array, RegExp | string]> = [
    ['trailing bytes ("123")', Buffer.from('123'), /^Can't decode binary \(MessagePack\) request\. ExtraData: /],
    ['a truncated map', Buffer.from([0x82, 0xa6]), /^Can't decode binary \(MessagePack\) request\./],
    ['garbage', Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37]), /^Can't decode binary \(MessagePack\) request\./],
    ['binary data inside', Buffer.from([0x81, 0xa6, 0x61, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0xc4, 0x01, 0x00]),
      /^Can't decode binary \(MessagePack\) request\. TypeError: /],
    ['a string document', Buffer.from([0xa3, 0x61, 0x62, 0x63]), 'Unexpected body type. Expected dict or dict like.'],
  ];

  for (const [name, payload, error] of cases) {
    test(`a binary frame with ${name} gets a 400 binary reply and the socket keeps working`, async () => {
      await expectErrorReply((ws) => ws.sendBinary(payload), true, error);
    });
  }

  test('an unknown action in a valid MessagePack document is named in the reply', async () => {
    const ws = await RawWs.open(wsUrl);
    const reply = await exchange(ws, { action: 'queue_glorify', headers, body: {} }, 'msgpack');
    expect((reply.document as Reply).body.error).toBe('queue_glorify is not a valid action');
    await ws.close();
  });
});

describe('frames beyond the bounds', () => {
  test('a text frame that is not UTF-8 drops that connection only (uWS enforces RFC 6455)', async () => {
    const ws = await RawWs.open(wsUrl);
    ws.sendText(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    const closed = await ws.closed;
    expect([1006, 1007]).toContain(closed.code);
    await expectServing();
  });

  test('a frame larger than ws_max_payload_bytes drops that connection only', async () => {
    const ws = await RawWs.open(wsUrl);
    ws.sendText(JSON.stringify({ action: 'queue_list', headers, body: { pad: 'x'.repeat(maxPayloadBytes) } }));
    const closed = await ws.closed;
    expect([1006, 1009]).toContain(closed.code);
    await expectServing();
  });

  test('more requests queued than ws_queued_per_socket_max close the socket with 1008', async () => {
    const ws = await RawWs.open(wsUrl);
    for (let i = 0; i < 64; i++) ws.sendJson({ action: 'message_post', headers, body: { queue_name: 'flood', messages: [{ body: i }] } });
    const closed = await ws.closed;
    expect(closed.code).toBe(1008);
    await expectServing();
  });
});

/**
 * Black-box: hostile and malformed input gets the documented 4xx with a JSON body and
 * the server keeps serving — malformed JSON, invalid UTF-8, wrong content types, bodies
 * over the limit (declared, and actually streamed), garbage headers and parameters,
 * unknown ids. Raw sockets are used where fetch would refuse to send the bytes.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { LaunchedServer } from '../support/server-launcher.js';
import { errorOf, ZaqarHttp } from '../support/zaqar-http.js';

let server: LaunchedServer;
let zaqar: ZaqarHttp;
beforeAll(async () => {
  server = await LaunchedServer.start();
  zaqar = new ZaqarHttp(server.url);
});
afterEach(async () => {
  // Whatever the previous test sent, the node must still answer.
  expect((await zaqar.get('/v2/ping')).status).toBe(204);
});
afterAll(async () => {
  await server?.stop();
});

const json = { 'Content-Type': 'application/json' };
const couldNotParse = { title: 'Invalid request body', description: 'Request body could not be parsed.' };

/** Sends raw bytes and returns everything the server wrote before closing (or the deadline). */
function rawExchange(request: Buffer | string, deadlineMs = 5000): Promise<{ text: string; isClosed: boolean }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, isClosed: false });
    }, deadlineMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, isClosed: true });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request);
  });
}

function head(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1`, `Client-ID: ${zaqar.clientId}`, `X-Project-ID: ${zaqar.project}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('bodies', () => {
  test('malformed JSON and non-document JSON are 400 "could not be parsed" on every body route', async () => {
    await zaqar.put('/v2/queues/q');
    const routes: Array<[string, string]> = [
      ['POST', '/v2/queues/q/messages'], ['PUT', '/v2/queues/q2'], ['POST', '/v2/queues/q/claims'], ['POST', '/v2/queues/q/share'],
    ];
    for (const [method, path] of routes) {
      for (const raw of ['{"messages": [}', 'nul', '"just a string"', '{"a":1}{"b":2}']) {
        const reply = await zaqar.call(method, path, { raw, headers: json });
        expect(reply.status, `${method} ${path} ${raw}`).toBe(400);
        expect(reply.body).toEqual(couldNotParse);
      }
    }
  });

  test('invalid UTF-8 is a parse error, not a crash', async () => {
    const bytes = Buffer.concat([Buffer.from('{"messages": [{"body": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
    const reply = await zaqar.post('/v2/queues/q/messages', { raw: bytes, headers: json });
    expect(reply.body).toEqual(couldNotParse);
    const bom = await zaqar.post('/v2/queues/q/messages', { raw: Buffer.from('\uFEFF{"messages": [{"body": 1}]}'), headers: json });
    expect(bom.body).toEqual(couldNotParse);
  });

  test('a url-encoded body is refused whatever it contains', async () => {
    const reply = await zaqar.post('/v2/queues/q/messages', { raw: 'messages=1', headers: { 'Content-Type': 'Application/X-WWW-Form-Urlencoded' } });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).title).toBe('Invalid Content-Type');
  });

  test('a body streamed past the limit gets its 400', async () => {
    const reply = await zaqar.post('/v2/queues/q/messages', { json: { messages: [{ body: 'x'.repeat(300_000) }] } });
    expect(reply.body).toEqual({ title: 'Invalid API request', description: 'Message collection size is too large. Max size 262144' });
    const metadata = await zaqar.put('/v2/queues/huge', { json: { blob: 'x'.repeat(300_000) } });
    expect(metadata.body).toEqual({ title: 'Invalid API request', description: 'Queue metadata is too large. Max size: 65536' });
  });

  test('a huge declared Content-Length is answered at once and the connection closed, not left hanging', async () => {
    const request = head('POST', '/v2/queues/q/messages', { 'Content-Type': 'application/json', 'Content-Length': 50_000_000 }) + '{"messages": [';
    const { text, isClosed } = await rawExchange(request);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('Message collection size is too large. Max size 262144');
    expect(isClosed).toBe(true);
  });

  test('a chunked body that streams past the limit is cut off with its 400 and the connection closed', async () => {
    const chunk = Buffer.alloc(100_000, 'x');
    const chunks = Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`).join('');
    const request = head('POST', '/v2/queues/q/messages', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
      + `e\r\n{"messages": [\r\n` + chunks;
    const { text, isClosed } = await rawExchange(request);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('Message collection size is too large. Max size 262144');
    expect(isClosed).toBe(true);
  });
});

describe('headers and parameters', () => {
  test('garbage header values get 400s with JSON bodies', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ 'Client-ID': '\u00e9t\u00e9' }, 'Wrong UUID value'],
      [{ 'Client-ID': 'x'.repeat(2000) }, 'Wrong UUID value'],
      [{ 'X-Project-ID': 'p'.repeat(300) }, 'Invalid queue identification'],
    ];
    for (const [headers, title] of cases) {
      const lines = head('GET', '/v2/queues/q/stats', {}).replace(/Client-ID: .*\r\n/, '').replace(/X-Project-ID: .*\r\n/, '');
      const extra = { 'Client-ID': zaqar.clientId, 'X-Project-ID': zaqar.project, ...headers };
      const request = lines.replace('\r\n\r\n', `\r\n${Object.entries(extra).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
      const { text } = await rawExchange(Buffer.from(request, 'latin1'), 2000);
      expect(text, JSON.stringify(headers)).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).toContain(`"title":"${title}"`);
    }
  });

  test('an Accept that excludes JSON is 406 with an empty body', async () => {
    const reply = await zaqar.get('/v2/queues', { headers: { Accept: 'image/png' } });
    expect(reply.status).toBe(406);
    expect(reply.text).toBe('');
  });

  test('negative, huge and non-numeric limits are 400s', async () => {
    const cases = ['/v2/queues?limit=-1', '/v2/queues?limit=1e3', '/v2/queues/q/messages?limit=100000000000000000000000',
      '/v2/queues/q/messages?limit=-0x10', '/v2/queues/q/messages?echo=perhaps', '/v2/queues/q/messages?include_claimed=2'];
    for (const path of cases) {
      const reply = await zaqar.get(path);
      expect(reply.status, path).toBe(400);
      expect(typeof errorOf(reply).title).toBe('string');
    }
    expect((await zaqar.post('/v2/queues/q/claims?limit=-3')).status).toBe(400);
    expect((await zaqar.delete('/v2/queues/q/messages?pop=99999999999999999999')).status).toBe(400);
  });

  test('unknown and malformed ids are 404 on reads and silent on deletes', async () => {
    for (const id of ['000000000000000000000000', 'zz', '%00', 'a'.repeat(500)]) {
      expect((await zaqar.get(`/v2/queues/q/messages/${id}`)).status, id).toBe(404);
      expect((await zaqar.get(`/v2/queues/q/claims/${id}`)).status, id).toBe(404);
      expect((await zaqar.delete(`/v2/queues/q/messages/${id}`)).status, id).toBe(204);
      expect((await zaqar.delete(`/v2/queues/q/claims/${id}`)).status, id).toBe(204);
      expect((await zaqar.patch(`/v2/queues/q/claims/${id}`, { json: {} })).status, id).toBe(404);
    }
  });

  test('bad percent-encoding in the path or query does not break routing', async () => {
    expect((await rawExchange(head('GET', '/v2/queues/%E0%A4%A', {}), 2000)).text).toMatch(/^HTTP\/1\.1 404 /);
    expect((await zaqar.get('/v2/queues?marker=%ZZ&limit=%')).status).toBe(400);
  });
});

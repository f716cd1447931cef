/**
 * Probes, request metrics and logs of a real node: `/healthz`, `/readyz` and `/metrics`
 * answer without Zaqar headers; requests are counted by route template and WebSocket
 * action; every log line is JSON; a request's log line carries the id echoed in
 * `x-openstack-request-id`; message bodies never reach the log; the missing
 * authentication is announced at warn level; `log_level` filters lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawWs } from '../ws/raw-ws.js';
import { OpsProcess } from './ops-process.js';

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-Id': 'ops-probes', 'content-type': 'application/json' };
const bodyMarker = 'BODY-MUST-NOT-BE-LOGGED-7f3a';

let dir = '';
let node: OpsProcess & { url: string };

/** Polls `check` until it returns true or the deadline passes. */
async function eventually(check: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const startMs = Date.now();
  while (!(await check())) {
    if (Date.now() - startMs > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-probes-'));
  node = await OpsProcess.serve(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--log-level', 'debug']);
});

afterAll(async () => {
  await node.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('probes', () => {
  test('/healthz answers 200 without Zaqar headers', async () => {
    const response = await fetch(`${node.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  test('/readyz turns 200 once the shards are served', async () => {
    await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 200, 20_000, '/readyz 200');
    expect(await (await fetch(`${node.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });
});

describe('request metrics', () => {
  test('HTTP requests are counted by route template, method and status', async () => {
    const posted = await fetch(`${node.url}/v2/queues/metrics-q/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [{ body: { text: bodyMarker }, ttl: 300 }] }),
    });
    expect(posted.status).toBe(201);
    const response = await fetch(`${node.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^zaqar_transport_http_requests_total\{route="\/v2\/queues\/\{queue_name\}\/messages",method="POST",status="201"\} [1-9]/m);
    expect(text).toMatch(/^zaqar_transport_http_request_duration_seconds_count\{route="\/v2\/queues\/\{queue_name\}\/messages",method="POST"\} [1-9]/m);
    expect(text).toMatch(/^zaqar_api_messages_posted_total [1-9]/m);
    expect(text).not.toContain('metrics-q'); // queue names are never labels
  });

  test('WebSocket requests are counted by action and status', async () => {
    const socket = await RawWs.open(node.url.replace('http:', 'ws:') + '/');
    socket.sendJson({ action: 'queue_list', headers: { 'Client-ID': headers['Client-ID'], 'X-Project-ID': 'ops-probes' }, body: {} });
    const reply = await socket.next();
    expect((reply.document as { headers: { status: number } }).headers.status).toBe(200);
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(text).toMatch(/^zaqar_transport_ws_requests_total\{action="queue_list",status="200"\} 1$/m);
    expect(text).toMatch(/^zaqar_transport_ws_sessions 1$/m);
    await socket.close();
  });
});

describe('logs', () => {
  test('every line is JSON; the request id in the reply header is on the request line; bodies are not logged', async () => {
    const response = await fetch(`${node.url}/v2/queues/logs-q/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [{ body: { text: bodyMarker }, ttl: 300 }] }),
    });
    expect(response.status).toBe(201);
    const requestId = response.headers.get('x-openstack-request-id') ?? '';
    expect(requestId).toMatch(/^req-[0-9a-f-]{36}$/);
    await node.waitFor(new RegExp(`"reqId":"${requestId}"`), 10_000);
    const line = node.logLines().find((l) => l['reqId'] === requestId);
    expect(line).toMatchObject({ level: 'debug', method: 'POST', route: '/v2/queues/{queue_name}/messages', status: 201 });
    expect(node.output).not.toContain(bodyMarker);
    const plain = node.output.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    expect(plain).toEqual([expect.stringMatching(/^listening on http:\/\//)]);
  });

  test('the missing authentication is announced at warn level', () => {
    const warning = node.logLines().find((l) => l['auth'] === 'none');
    expect(warning).toMatchObject({ level: 'warn' });
    expect(String(warning?.['msg'])).toContain('no authentication');
  });

  test('log_level warn drops info and debug lines', async () => {
    const quiet = await OpsProcess.serve(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'quiet')], { ZAQAR_LOG_LEVEL: 'warn' });
    try {
      const response = await fetch(`${quiet.url}/v2/queues/q/messages`, { method: 'POST', headers, body: JSON.stringify({ messages: [{ body: 1 }] }) });
      expect(response.status).toBe(201);
      quiet.signal('SIGTERM');
      expect((await quiet.exit(30_000)).code).toBe(0);
      const levels = new Set(quiet.logLines().map((l) => l['level']));
      expect(levels).toEqual(new Set(['warn']));
    } finally {
      await quiet.kill();
    }
  });
});

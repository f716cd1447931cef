/**
 * `zaqar-ts cluster status|add|remove` argument handling against a real HTTP server on
 * 127.0.0.1 that records what it is asked: every documented form reaches the right
 * endpoint, with or without `--url` and `--address` (the URL then comes from ZAQAR_URL),
 * with `{"address"}` only when `--address` is given; malformed forms print the usage and
 * exit 2 without any request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { runClusterCommand } from './cluster-admin-cli.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly roles: string | undefined;
}

describe('zaqar-ts cluster', () => {
  let server: Server;
  let url = '';
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        const roles = request.headers['x-roles'];
        seen.push({ method: request.method ?? '', path: request.url ?? '', body, roles: typeof roles === 'string' ? roles : undefined });
        if (request.method === 'GET') {
          response.writeHead(200, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify({ nodeId: 1, shards: [], peers: [{ nodeId: 2, address: '127.0.0.1:7002', isConnected: true }] }));
          return;
        }
        response.writeHead(204);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  test.each([
    { args: ['add', '4'], method: 'PUT', path: '/v2/cluster/nodes/4', body: '' },
    { args: ['add', '4', '--url', 'URL'], method: 'PUT', path: '/v2/cluster/nodes/4', body: '' },
    { args: ['add', '4', '--address', 'node4:7000'], method: 'PUT', path: '/v2/cluster/nodes/4', body: '{"address":"node4:7000"}' },
    { args: ['--url', 'URL', 'add', '4', '--address', 'node4:7000'], method: 'PUT', path: '/v2/cluster/nodes/4', body: '{"address":"node4:7000"}' },
    { args: ['remove', '5'], method: 'DELETE', path: '/v2/cluster/nodes/5', body: '' },
    { args: ['remove', '5', '--url', 'URL'], method: 'DELETE', path: '/v2/cluster/nodes/5', body: '' },
    { args: ['status'], method: 'GET', path: '/v2/cluster', body: '' },
    { args: ['status', '--url', 'URL'], method: 'GET', path: '/v2/cluster', body: '' },
  ])('$args asks $method $path as admin', async ({ args, method, path, body }) => {
    const withUrl = args.map((arg) => (arg === 'URL' ? url : arg));
    // Without --url the command must find the node through ZAQAR_URL.
    const env = args.includes('--url') ? { ZAQAR_URL: 'http://127.0.0.1:1' } : { ZAQAR_URL: url };
    expect(await runClusterCommand(withUrl, env)).toBe(0);
    expect(seen).toEqual([{ method, path, body, roles: 'admin' }]);
  });

  test.each([[[]], [['add']], [['add', 'x']], [['add', '4', '5']], [['remove', '4', '--address', 'node4:7000']], [['status', '4']], [['add', '4', '--address']]])(
    '%j prints the usage and asks nothing',
    async (args) => {
      expect(await runClusterCommand(args, { ZAQAR_URL: url })).toBe(2);
      expect(seen).toEqual([]);
    },
  );
});

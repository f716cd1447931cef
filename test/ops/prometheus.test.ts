/**
 * The metrics as an operator's Prometheus sees them: Debian's real `prometheus` server
 * scrapes a running zaqar-ts node (its API port's `/metrics` and its `--metrics-listen`
 * listener) once a second, and this suite asks Prometheus's HTTP API whether the series
 * arrived: requests by route, message traffic, per-shard depth and Raft position, log
 * flushes, Node's process metrics. It also loads the README's example alerting rules and
 * waits until Prometheus has evaluated every one without error.
 *
 * Prometheus is installed with apt-get when missing (about a minute on a fresh machine);
 * without apt-get the suite is skipped with a message saying so. Waits are bounded; no
 * timing is asserted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawWs } from '../ws/raw-ws.js';
import { OpsProcess, repoRoot } from './ops-process.js';

/** Undefined when `prometheus` runs here; otherwise why the suite cannot run. */
function prometheusUnavailable(): string | undefined {
  if (spawnSync('prometheus', ['--version']).status === 0) return undefined;
  if (spawnSync('apt-get', ['--version']).status !== 0) {
    return 'apt-get is not available to install Debian\'s prometheus package; install prometheus (2.x) to run this suite';
  }
  return undefined; // installed in beforeAll (a failed install fails the suite)
}

function installPrometheus(): void {
  if (spawnSync('prometheus', ['--version']).status === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): number | null =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], { env, stdio: 'ignore' }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
    const status = install();
    if (status !== 0) throw new Error(`apt-get install -y prometheus failed (exit ${status})`);
  }
}

const skipReason = prometheusUnavailable();
if (skipReason !== undefined) console.warn(`test/ops/prometheus.test.ts skipped: ${skipReason}`);

const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-Id': 'ops-prometheus', 'content-type': 'application/json' };
const waitMs = 60_000;

let dir = '';
let node: (OpsProcess & { url: string }) | undefined;
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const startMs = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - startMs > waitMs) throw new Error(`not within ${waitMs} ms: ${what} (last error: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const document = (await response.json()) as { status: string; data?: { result: Sample[] }; error?: string };
  if (document.status !== 'success') throw new Error(`query ${promql}: ${document.error ?? response.status}`);
  return document.data?.result ?? [];
}

/** The samples of `promql` once Prometheus has at least one. */
function seriesOf(promql: string): Promise<Sample[]> {
  return eventually(promql, async () => {
    const result = await query(promql);
    return result.length > 0 ? result : undefined;
  });
}

/** The YAML block between the README's alert-rules markers. */
async function readmeAlertRules(): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const match = /<!-- alert-rules:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- alert-rules:end -->/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no alert-rules block');
  return match[1];
}

async function driveTraffic(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const posted = await fetch(`${url}/v2/queues/scraped-${i}/messages`, {
      method: 'POST', headers, body: JSON.stringify({ messages: [{ body: { i }, ttl: 300 }, { body: 'two', ttl: 300 }] }),
    });
    expect(posted.status).toBe(201);
  }
  const claimed = await fetch(`${url}/v2/queues/scraped-0/claims?limit=1`, { method: 'POST', headers, body: JSON.stringify({ ttl: 60, grace: 60 }) });
  expect(claimed.status).toBe(201);
  const popped = await fetch(`${url}/v2/queues/scraped-1/messages?pop=1`, { method: 'DELETE', headers });
  expect(popped.status).toBe(200);
  const socket = await RawWs.open(`${url.replace('http:', 'ws:')}/`);
  socket.sendJson({ action: 'queue_list', headers: { 'Client-ID': headers['Client-ID'], 'X-Project-ID': 'ops-prometheus' }, body: {} });
  await socket.next();
  await socket.close();
}

describe.skipIf(skipReason !== undefined)('a real Prometheus scraping a node', () => {
  beforeAll(async () => {
    installPrometheus();
    dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-prometheus-'));
    const metricsPort = await freePort();
    node = await OpsProcess.serve(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--metrics-listen', `127.0.0.1:${metricsPort}`]);
    await driveTraffic(node.url);
    const apiTarget = node.url.replace('http://', '');
    await writeFile(join(dir, 'rules.yml'), await readmeAlertRules());
    await writeFile(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'scrape_configs:',
      '  - job_name: zaqar-api',
      `    static_configs: [{ targets: ["${apiTarget}"] }]`,
      '  - job_name: zaqar-metrics-listener',
      `    static_configs: [{ targets: ["127.0.0.1:${metricsPort}"] }]`,
      '',
    ].join('\n'));
    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ], { stdio: 'ignore' });
    await eventually('Prometheus ready', async () => ((await fetch(`${prometheusUrl}/-/ready`)).status === 200 ? true : undefined));
  }, 600_000);

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await node?.kill();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test('both targets are up', async () => {
    for (const job of ['zaqar-api', 'zaqar-metrics-listener']) {
      const up = await seriesOf(`up{job="${job}"} == 1`);
      expect(up).toHaveLength(1);
    }
  });

  test('HTTP and WebSocket requests arrive by route template and action', async () => {
    const posts = await seriesOf('zaqar_transport_http_requests_total{job="zaqar-api",route="/v2/queues/{queue_name}/messages",method="POST",status="201"}');
    expect(Number(posts[0]?.value[1])).toBeGreaterThanOrEqual(3);
    await seriesOf('zaqar_transport_http_request_duration_seconds_bucket{job="zaqar-api",route="/v2/queues/{queue_name}/claims",le="+Inf"}');
    await seriesOf('zaqar_transport_ws_requests_total{job="zaqar-api",action="queue_list",status="200"}');
    // No series is labelled with a queue or project name.
    expect(await query('{job="zaqar-api", queue_name=~".+"}')).toEqual([]);
  });

  test('message traffic, shard depth and claimed counts arrive', async () => {
    expect(Number((await seriesOf('zaqar_api_messages_posted_total{job="zaqar-api"}'))[0]?.value[1])).toBe(6);
    expect(Number((await seriesOf('zaqar_api_messages_claimed_total{job="zaqar-api"}'))[0]?.value[1])).toBe(1);
    expect(Number((await seriesOf('zaqar_api_messages_deleted_total{job="zaqar-api"}'))[0]?.value[1])).toBe(1);
    const depth = await seriesOf('sum(zaqar_cluster_shard_messages{job="zaqar-api"})');
    expect(Number(depth[0]?.value[1])).toBe(5);
    const claimed = await seriesOf('sum(zaqar_cluster_shard_claimed_messages{job="zaqar-api"})');
    expect(Number(claimed[0]?.value[1])).toBe(1);
  });

  test('per-shard Raft positions arrive, and every shard has a leader', async () => {
    const leaders = await seriesOf('zaqar_raft_role{job="zaqar-api",role="leader"}');
    expect(leaders.length).toBeGreaterThan(0);
    for (const name of ['zaqar_raft_term', 'zaqar_raft_commit_index', 'zaqar_raft_applied_index']) {
      expect((await seriesOf(`${name}{job="zaqar-api"}`)).length).toBe(leaders.length);
    }
    expect(await seriesOf('min(zaqar_raft_has_leader{job="zaqar-api"}) == 1')).toHaveLength(1);
    // Each shard's first election is a leader change (from none to this node).
    expect((await seriesOf('zaqar_raft_leader_changes_total{job="zaqar-api"} >= 1')).length).toBe(leaders.length);
  });

  test('log flush latency, store size and Node process metrics arrive', async () => {
    const flushes = await seriesOf('zaqar_log_flush_duration_seconds_count{job="zaqar-api"}');
    expect(Number(flushes[0]?.value[1])).toBeGreaterThan(0);
    await seriesOf('zaqar_log_store_bytes{job="zaqar-api"} > 0');
    await seriesOf('zaqar_log_persisted_bytes_total{job="zaqar-api"} > 0');
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_resident_memory_bytes']) {
      await seriesOf(`${name}{job="zaqar-metrics-listener"}`);
    }
  });

  test("the README's alerting rules load and evaluate without error", async () => {
    const rules = await eventually('every alerting rule evaluated', async () => {
      const response = await fetch(`${prometheusUrl}/api/v1/rules?type=alert`);
      const document = (await response.json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
      const group = document.data.groups.find((g) => g.name === 'zaqar-ts');
      if (group === undefined || group.rules.some((rule) => rule.health === 'unknown')) return undefined;
      return group.rules;
    });
    expect(rules.map((rule) => rule.name)).toEqual(['ZaqarShardWithoutLeader', 'ZaqarReplicationLag', 'ZaqarHigh5xxRate', 'ZaqarSlowFlush']);
    for (const rule of rules) expect({ name: rule.name, health: rule.health, lastError: rule.lastError ?? '' }).toEqual({ name: rule.name, health: 'ok', lastError: '' });
    // Every shard has a leader, so the leaderless-shard alert is not firing.
    expect(await query('ALERTS{alertname="ZaqarShardWithoutLeader"}')).toEqual([]);
  });
});

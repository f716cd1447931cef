/**
 * NodeOps readiness and probe replies: `/readyz` is 503 `starting` before the broker is
 * open, follows the broker's catch-up answer, and is 503 `draining` for good once the
 * drain began; `/healthz` is 200 throughout; `/metrics` serves the registry's text.
 */
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import type { ShardId } from './common/ids.js';
import { silentLogger } from './common/logger.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import { NodeOps } from './node-ops.js';

async function probe(ops: NodeOps, path: string): Promise<{ status: number; body: string }> {
  const handler = ops.plainRoutes().get(path);
  if (handler === undefined) throw new Error(`no ${path}`);
  const reply = await handler();
  return { status: reply.status, body: reply.body };
}

describe('NodeOps', () => {
  test('readiness: starting, then the broker decides, then draining for good', async () => {
    const ops = new NodeOps(new NodeMetrics(new Registry(), { processMetrics: false }), silentLogger);
    expect(await probe(ops, '/readyz')).toEqual({ status: 503, body: '{"status":"starting"}' });
    let isCaughtUp = false;
    ops.observe({ isCaughtUp: () => isCaughtUp }, '/nonexistent');
    expect(await probe(ops, '/readyz')).toEqual({ status: 503, body: '{"status":"catching_up"}' });
    isCaughtUp = true;
    expect(await probe(ops, '/readyz')).toEqual({ status: 200, body: '{"status":"ready"}' });
    ops.beginDrain();
    expect(await probe(ops, '/readyz')).toEqual({ status: 503, body: '{"status":"draining"}' });
    expect(await probe(ops, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
  });

  test('a broker without a catch-up answer is ready once open', async () => {
    const ops = new NodeOps(new NodeMetrics(new Registry(), { processMetrics: false }), silentLogger);
    ops.observe({}, '/nonexistent');
    expect((await probe(ops, '/readyz')).status).toBe(200);
  });

  test('/metrics serves the registry, with the shard gauges read from the broker', async () => {
    const ops = new NodeOps(new NodeMetrics(new Registry(), { processMetrics: false }), silentLogger);
    ops.observe({ shardReports: () => [{ shardId: 3 as ShardId, messages: 2, claimedMessages: 1 }] }, '/nonexistent');
    const reply = await probe(ops, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('zaqar_cluster_shard_messages{shard="3"} 2');
  });
});

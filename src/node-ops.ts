/**
 * The operations side of one node, composed by main.ts: its metrics (on a Registry
 * main creates), its logger, its readiness, and the plain endpoints the HTTP port
 * serves outside the Zaqar API, without Zaqar headers or authentication:
 *
 * - `GET /healthz` (liveness): 200 whenever the event loop answers. It never looks at
 *   peers, quorum or disk, because a failing liveness probe restarts the container.
 * - `GET /readyz` (readiness): 200 once the broker is open and every shard held here
 *   has a leader and has caught up; 503 while starting or catching up, and from the
 *   moment shutdown begins (draining), so load balancers stop sending traffic.
 * - `GET /metrics`: the Prometheus text format.
 *
 * Probes answer from memory (no Raft round trip), so they stay fast under load.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ShardReport } from './cluster/metrics.js';
import type { Logger } from './common/logger.js';
import { logEnvFile } from './log/lmdb/lmdb-env.js';
import type { NodeMetrics } from './metrics/node-metrics.js';
import type { RaftGroupReport } from './raft/metrics.js';
import type { PlainHandler, PlainReply } from './transport/http/uws-app.js';

/** What readiness and the sampled metrics read from the broker, when it offers them. */
export interface ObservableBroker {
  shardReports?(): readonly ShardReport[];
  raftReports?(): readonly RaftGroupReport[];
  isCaughtUp?(): boolean;
}

export type ReadinessState = 'starting' | 'ready' | 'catching_up' | 'draining';

const json = (status: number, body: unknown): PlainReply => ({
  status,
  contentType: 'application/json; charset=UTF-8',
  body: JSON.stringify(body),
});

export class NodeOps {
  private broker: ObservableBroker | undefined;
  private isDraining = false;

  constructor(
    readonly metrics: NodeMetrics,
    readonly logger: Logger,
  ) {}

  /** The broker is open: readiness and the shard gauges follow it from now on. */
  observe(broker: ObservableBroker, dataDir: string): void {
    this.broker = broker;
    this.metrics.observe({
      shards: () => broker.shardReports?.() ?? [],
      raftGroups: () => broker.raftReports?.() ?? [],
      storeBytes: () => lmdbBytes(dataDir),
    });
  }

  /** Shutdown has begun: not ready again for the life of this process. */
  beginDrain(): void {
    this.isDraining = true;
  }

  get readiness(): ReadinessState {
    if (this.isDraining) return 'draining';
    if (this.broker === undefined) return 'starting';
    return this.broker.isCaughtUp?.() === false ? 'catching_up' : 'ready';
  }

  /** `/healthz`, `/readyz`, `/metrics` for the HTTP port. */
  plainRoutes(): ReadonlyMap<string, PlainHandler> {
    return new Map<string, PlainHandler>([
      ['/healthz', () => json(200, { status: 'ok' })],
      ['/readyz', () => {
        const state = this.readiness;
        return json(state === 'ready' ? 200 : 503, { status: state });
      }],
      ['/metrics', async () => {
        const { contentType, text } = await this.metrics.exposition();
        return { status: 200, contentType, body: text };
      }],
    ]);
  }
}

/** Size of the node's LMDB files (queue state and Raft log); undefined before they exist. */
function lmdbBytes(dataDir: string): number | undefined {
  let bytes: number | undefined;
  for (const file of ['zaqar.lmdb', logEnvFile]) {
    try {
      bytes = (bytes ?? 0) + statSync(join(dataDir, file)).size;
    } catch {
      // not created yet, or a test's memory stores
    }
  }
  return bytes;
}

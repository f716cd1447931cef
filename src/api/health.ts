/**
 * Ping (liveness) and the detailed, admin-only health report (zaqar-api-v2.md §3.3,
 * §3.4). The health check exercises the broker for real, as the reference does: it
 * creates a throw-away queue under a random project, posts, claims, lists, deletes and
 * times each step. A failing step is reported (`succeeded: false`, `ref` = an error
 * id that is logged), not thrown, so the report itself stays available.
 */
import { randomUUID } from 'node:crypto';
import type { Broker } from './broker.js';
import { clusterReport } from './cluster-report.js';
import type { JsonValue } from './json-body.js';
import { reply, type Operation } from './operation.js';
import type { Clock } from '../common/clock.js';
import type { QueueRef, QueueStatsRecord } from '../cluster/records.js';

export const ping: Operation = {
  policy: 'ping:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    let isHealthy = false;
    try {
      isHealthy = await call.api.broker.isHealthy();
    } catch {
      isHealthy = false; // an unreachable store is exactly what a failed ping reports
    }
    return reply(isHealthy ? 204 : 503);
  },
};

export const pingHead: Operation = { ...ping, run: async () => reply(204) };

const probeMessageCount = 100;

interface StepStatus {
  seconds: number;
  ref: string | null;
  succeeded: boolean;
}

/** Runs one timed step; failures are recorded with a reference id instead of thrown. */
async function timed<T>(clock: Clock, steps: Record<string, StepStatus>, name: string, work: () => Promise<T>): Promise<T | undefined> {
  const startMs = clock.monotonicMs();
  try {
    const result = await work();
    steps[name] = { seconds: (clock.monotonicMs() - startMs) / 1000, ref: null, succeeded: true };
    return result;
  } catch (cause) {
    const ref = randomUUID();
    console.error(`health check step ${name} failed (ref ${ref})`, cause);
    steps[name] = { seconds: (clock.monotonicMs() - startMs) / 1000, ref, succeeded: false };
    return undefined;
  }
}

/** Exercises every broker operation class once on a throw-away queue. */
export async function probeBroker(broker: Broker, clock: Clock): Promise<{ steps: Record<string, StepStatus>; volume: QueueStatsRecord | undefined }> {
  const steps: Record<string, StepStatus> = {};
  const ref: QueueRef = { project: `health-${randomUUID()}`, queue: 'health-probe' };
  const clientId = randomUUID();
  await timed(clock, steps, 'create_queue', () => broker.createQueue(ref, {}));
  const messages = Array.from({ length: probeMessageCount }, (_, i) => ({ body: { probe: i }, ttlSeconds: 600, delaySeconds: 0 }));
  const posted = await timed(clock, steps, 'post_messages', () => broker.postMessages(ref, { clientId, messages }));
  const claim = await timed(clock, steps, 'claim_messages', () => broker.createClaim(ref, { limit: 10, ttlSeconds: 60, graceSeconds: 300 }));
  const volume = await timed(clock, steps, 'queue_stats', () => broker.queueStats(ref));
  await timed(clock, steps, 'list_messages', () => broker.listMessages(ref, {
    clientId, limit: 10, echo: true, includeClaimed: true, includeDelayed: true,
  }));
  await timed(clock, steps, 'delete_messages', async () => {
    for (const m of claim?.messages ?? []) await broker.deleteMessage(ref, { id: m.id, claimId: claim?.id ?? '' });
  });
  await timed(clock, steps, 'delete_claim', () => (claim ? broker.releaseClaim(ref, claim.id) : Promise.resolve()));
  await timed(clock, steps, 'bulk_delete_messages', async () => {
    const ids = posted?.ids ?? [];
    for (let i = 0; i < ids.length; i += 20) await broker.deleteMessages(ref, { ids: ids.slice(i, i + 20) });
  });
  await timed(clock, steps, 'delete_queue', () => broker.deleteQueue(ref));
  delete steps['queue_stats'];
  return { steps, volume };
}

async function clusterSection(broker: Broker): Promise<{ cluster?: JsonValue }> {
  const report = await clusterReport(broker);
  return report === undefined ? {} : { cluster: report };
}

export const health: Operation = {
  policy: 'health:get',
  hasQueue: false,
  isScoped: true,
  async run(call) {
    const { broker, clock } = call.api;
    const isReachable = await broker.isHealthy().catch(() => false);
    const { steps, volume } = await probeBroker(broker, clock);
    // message_volume counts the probe queue at its fullest: this node has no cheap
    // store-wide count, and the probe shows the counters work end to end.
    const body: JsonValue = {
      storage_reachable: isReachable,
      operation_status: steps as unknown as JsonValue,
      message_volume: { free: volume?.free ?? 0, claimed: volume?.claimed ?? 0, total: volume?.total ?? 0 },
      // zaqar-ts extension: the Raft state of this node's shard replicas and its peers.
      ...(await clusterSection(broker)),
    };
    return reply(200, body);
  },
};

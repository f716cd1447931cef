/**
 * One fuzz run against the real server process plus the in-process cluster port:
 * before and during the fuzz a producer posts messages to a queue of a project the
 * fuzzers never name and records every acknowledged id; the fuzzers then take turns
 * (HTTP, WebSocket, gRPC) for the given counts. Afterwards the node must still be
 * running and answering, every acknowledged message must be readable with its body,
 * and a genuine Raft peer must still get through. The seed is printed first; the same
 * SEED replays the same inputs.
 */
import { LaunchedServer } from '../support/server-launcher.js';
import { ZaqarHttp } from '../support/zaqar-http.js';
import { FuzzRandom } from './fuzz-gen.js';
import { fuzzHttpOnce, type FuzzOutcome } from './fuzz-http.js';
import { GrpcFuzzTarget } from './fuzz-grpc.js';
import { WsFuzzer } from './fuzz-ws.js';

export interface FuzzPlan {
  readonly seed: number;
  readonly httpRequests: number;
  readonly wsFrames: number;
  readonly grpcInputs: number;
  readonly log?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly failures: readonly string[];
  readonly acknowledged: number;
  readonly missing: readonly string[];
  readonly serverLog: string;
  readonly wsCloseCodes: ReadonlyMap<number, number>;
  readonly skipped: number;
}

const keptProject = 'kept-project';
const keptQueue = 'kept';

export async function runFuzz(plan: FuzzPlan): Promise<FuzzReport> {
  const log = plan.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  log(`fuzz seed ${plan.seed} (replay: SEED=${plan.seed})`);
  const rng = new FuzzRandom(plan.seed);
  const server = await LaunchedServer.start({ config: { signed_url: { secret_key: 'fuzz-key' }, admin_mode: true } });
  const grpcTarget = await GrpcFuzzTarget.start();
  const ws = new WsFuzzer(`${server.url.replace(/^http/, 'ws')}/`, 'fz-ws');
  const producer = new ZaqarHttp(server.url, keptProject);
  const acknowledged = new Map<string, number>();
  const failures: string[] = [];
  let skipped = 0;
  const produce = async (n: number): Promise<void> => {
    const ids = await producer.postMessages(keptQueue, [{ body: { n }, ttl: 3600 }]);
    for (const id of ids) acknowledged.set(id, n);
  };
  const record = (outcome: FuzzOutcome | undefined): void => {
    if (outcome === undefined) skipped += 1;
    else if (!outcome.ok) failures.push(outcome.what);
  };
  try {
    for (let n = 0; n < 10; n++) await produce(n);
    const total = plan.httpRequests + plan.wsFrames + plan.grpcInputs;
    let left = { http: plan.httpRequests, ws: plan.wsFrames, grpc: plan.grpcInputs };
    for (let step = 0; step < total; step++) {
      const target = pickTarget(rng, left);
      if (target === 'http') record(await fuzzHttpOnce(rng, { baseUrl: server.url, project: `fz-${rng.int(3)}` }));
      else if (target === 'ws') record(await ws.once(rng));
      else record(await grpcTarget.once(rng));
      left = { ...left, [target]: left[target] - 1 };
      if (step % 25 === 0) await produce(1000 + step);
      if (failures.length >= 20) break;
    }
    await grpcTarget.checkGenuinePeer(4242);
    const missing = await findMissing(producer, acknowledged);
    return { seed: plan.seed, failures, acknowledged: acknowledged.size, missing, serverLog: server.log, wsCloseCodes: ws.closeCodes, skipped };
  } finally {
    await ws.close().catch(() => undefined);
    await grpcTarget.close();
    await server.stop();
  }
}

/** SEED from the environment; unset or empty: none (an empty SEED= is not seed 0). */
export function seedFromEnv(): number | undefined {
  const raw = process.env['SEED'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be an integer, got ${raw}`);
  return seed;
}

function pickTarget(rng: FuzzRandom, left: { http: number; ws: number; grpc: number }): 'http' | 'ws' | 'grpc' {
  const total = left.http + left.ws + left.grpc;
  const roll = rng.int(total);
  if (roll < left.http) return 'http';
  return roll < left.http + left.ws ? 'ws' : 'grpc';
}

/** Every acknowledged message, read back by id (20 per request, the page limit), with its body. */
async function findMissing(producer: ZaqarHttp, acknowledged: ReadonlyMap<string, number>): Promise<string[]> {
  const missing: string[] = [];
  const ids = [...acknowledged.keys()];
  for (let i = 0; i < ids.length; i += 20) {
    const batch = ids.slice(i, i + 20);
    const reply = await producer.get(`/v2/queues/${keptQueue}/messages?ids=${batch.join(',')}`);
    const found = new Map(((reply.body as { messages?: Array<{ id: string; body: { n: number } }> })?.messages ?? [])
      .map((m) => [m.id, m.body.n]));
    for (const id of batch) if (found.get(id) !== acknowledged.get(id)) missing.push(id);
  }
  return missing;
}

/**
 * One Raft node as a real process, for the crash test: LMDB log store, gRPC transport,
 * groups 1..groupCount of the same voters, each with a RecordingStateMachine.
 *
 * Usage: node --import tsx raft-node-process.ts '<json NodeProcessConfig>'
 * On start it prints one JSON line {"raftPort","controlPort"} on stdout. Control channel
 * (HTTP on 127.0.0.1):
 *   POST /connect   body {"peers": {"<id>": "host:port"}}   dial the peers (once)
 *   POST /propose?shard=N  body = text   → 200 {"index"} once committed and applied here;
 *                                          409 {"reason","leaderHint"} when refused
 *   GET  /status    → [{shardId, role, term, leader, commit, applied, lastIndex, isDamaged}]
 *   GET  /applied?shard=N → the state machine's list of applied texts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeededRandom } from '../../src/common/random.js';
import { SystemDelays } from '../../src/common/timers.js';
import { openLmdbEnv } from '../../src/log/lmdb/lmdb-env.js';
import { LmdbLogStore } from '../../src/log/lmdb/lmdb-log-store.js';
import { GrpcRaftTransport } from '../../src/raft/grpc/grpc-raft-transport.js';
import { RaftError } from '../../src/raft/raft-error.js';
import { intervalTicker, RaftHost } from '../../src/raft/raft-host.js';
import type { NodeId, ShardId } from '../../src/raft/types.js';
import { RecordingStateMachine } from './recording-state-machine.js';

export interface NodeProcessConfig {
  readonly nodeId: number;
  readonly dataDir: string;
  /** 0 on first start; the same port on restart (peers know it). */
  readonly raftPort: number;
  readonly voters: readonly number[];
  readonly groupCount: number;
  readonly tickMs: number;
  /** Given on restart: dial at once instead of waiting for POST /connect. */
  readonly peers?: Readonly<Record<string, string>>;
}

const bodyBytesMax = 1024 * 1024;

const config = JSON.parse(process.argv[2] ?? '{}') as NodeProcessConfig;
const nodeId = config.nodeId as NodeId;
const store = new LmdbLogStore(openLmdbEnv(config.dataDir));
const transport = await GrpcRaftTransport.listen({
  nodeId,
  listenAddress: `127.0.0.1:${config.raftPort}`,
  random: new SeededRandom(config.nodeId * 7919 + process.pid),
  delays: new SystemDelays(),
});
const host = new RaftHost({
  nodeId,
  store,
  transport,
  random: new SeededRandom(config.nodeId * 104_729 + process.pid),
  ticker: intervalTicker(config.tickMs),
  node: { compactionEntries: 500 },
  onGroupFailure: (shardId, error) => console.error(`node ${nodeId} group ${shardId} failed`, error),
});
const machines = new Map<ShardId, RecordingStateMachine>();
for (let shard = 1; shard <= config.groupCount; shard++) {
  const fsm = new RecordingStateMachine();
  machines.set(shard as ShardId, fsm);
  host.addGroup({ shardId: shard as ShardId, peers: config.voters.map((id) => id as NodeId), fsm });
}
if (config.peers !== undefined) connect(config.peers);
host.start();

function connect(peers: Readonly<Record<string, string>>): void {
  transport.connect(new Map(Object.entries(peers).map(([id, address]) => [Number(id) as NodeId, address])));
}

const control = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }));
});
control.listen(0, '127.0.0.1', () => {
  const { port } = control.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ raftPort: transport.port, controlPort: port })}\n`);
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const shardId = Number(url.searchParams.get('shard') ?? '1') as ShardId;
  if (req.method === 'POST' && url.pathname === '/connect') {
    const { peers } = JSON.parse(await readBody(req)) as { peers: Record<string, string> };
    connect(peers);
    return reply(res, 200, {});
  }
  if (req.method === 'POST' && url.pathname === '/propose') {
    const group = host.group(shardId);
    if (group === undefined) return reply(res, 404, { reason: 'no_group' });
    try {
      const { index } = await group.propose(Buffer.from(await readBody(req)));
      return reply(res, 200, { index });
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      return reply(res, 409, { reason: error.reason, leaderHint: error.leaderHint ?? null });
    }
  }
  if (req.method === 'GET' && url.pathname === '/status') {
    const statuses = host.shardIds().map((id) => {
      const s = host.group(id)?.status();
      if (s === undefined) return undefined;
      const { role, term, commit, applied, lastIndex, isDamaged, isFailed } = s;
      return { shardId: id, role, term, leader: s.leader ?? null, commit, applied, lastIndex, isDamaged, isFailed };
    });
    return reply(res, 200, statuses);
  }
  if (req.method === 'GET' && url.pathname === '/applied') {
    return reply(res, 200, machines.get(shardId)?.applied ?? []);
  }
  reply(res, 404, { reason: 'no_route' });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > bodyBytesMax) throw new Error('control request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

process.on('SIGTERM', () => {
  control.close();
  void host.stop().then(() => process.exit(0));
});

/**
 * What a claim and its delete cost the shard state machine on LMDB, without the network,
 * Raft or the api: fills one queue (unmeasured), then applies `--rounds` pairs of a claim
 * of 20 (dedup key set, as the router sends it) and the bulk delete of its messages with
 * their claim id, committing every 4 pairs. Prints the process CPU per message (LMDB's
 * write thread included) and the main thread's apply time per message for claims and for
 * deletes. Bounded by `--rounds`; timings are printed, never checked.
 *
 *   npx tsx bench/claim-apply.ts [--rounds N] [--dist DIR] [--message-ttl S] [--entries]
 *
 * `--dist DIR` loads the state machine from another build's output (e.g. a copy of an
 * earlier `dist/`), for before/after runs in one process type. `--message-ttl S` (default
 * 3600): messages living less than the claim's 60 s + 60 s grace are rewritten by every
 * claim (§5.2 lifetime extension), as in the e2e bench (300 s). `--entries`: posts carry
 * their messages as the proposer builds them on a current cluster (queue-store entries,
 * ids derived from seqs), instead of as plain messages the apply encodes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const rounds = Number(option('rounds') ?? 1500);
const messageTtlSeconds = Number(option('message-ttl') ?? 3600);
const asEntries = argv.includes('--entries');
const dist = option('dist');
const source = (path: string): string =>
  dist === undefined ? `../src/${path}.ts` : pathToFileURL(join(resolve(dist), 'src', `${path}.js`)).href;

interface Fsm {
  readonly appliedIndex: number;
  apply(entries: { index: number; data: Uint8Array }[]): unknown[];
}
const { QueueFsm } = (await import(source('cluster/shard/queue-fsm'))) as { QueueFsm: new (shard: number, store: unknown) => Fsm };
const { encodeCommand } = (await import(source('cluster/shard/commands'))) as { encodeCommand: (command: unknown) => Uint8Array };
const { encodeBody } = (await import(source('cluster/shard/body-codec'))) as { encodeBody: (body: unknown) => Uint8Array };
const { postedMessages } = (await import(source('cluster/shard/posted-messages'))) as {
  postedMessages: (messages: unknown[], options: unknown) => { carried: object };
};
const { openLmdbEnv } = (await import(source('log/lmdb/lmdb-env'))) as { openLmdbEnv: (dir: string) => { close(): Promise<void> } };
const { LmdbQueueStore } = (await import(source('log/lmdb/lmdb-queue-store'))) as {
  LmdbQueueStore: new (env: unknown) => { committed(): Promise<void>; flushed(): Promise<void> };
};

const dir = mkdtempSync(join(tmpdir(), 'zaqar-claim-apply-'));
const env = openLmdbEnv(dir);
try {
  const store = new LmdbQueueStore(env);
  const fsm = new QueueFsm(1, store);
  let nowMs = 1_000_000;
  const apply = (command: unknown): unknown => fsm.apply([{ index: fsm.appliedIndex + 1, data: encodeCommand(command) }])[0];
  const body = encodeBody({ text: 'x'.repeat(230) });
  let idCount = 0;
  const nextId = (): string => (idCount++).toString(16).padStart(24, '0');
  for (let i = 0; i < rounds * 2; i++) {
    const carried = asEntries
      ? postedMessages(Array.from({ length: 10 }, () => ({ body: null, encodedBody: body, ttlSeconds: messageTtlSeconds, delaySeconds: 0 })),
        { nowMs, clientId: 'c', enableChecksum: false, asEntries: true, derivesIds: true, packsEntries: true }).carried
      : { messages: Array.from({ length: 10 }, () => ({ id: nextId(), body, ttlSeconds: messageTtlSeconds, delaySeconds: 0, checksum: null })) };
    apply({ type: 'post', nowMs, project: 'p', queue: 'q', clientId: 'c', ...carried });
    if (i % 50 === 0) await store.committed();
  }
  await store.flushed();

  let claimed = 0;
  let claimUs = 0;
  let deleteUs = 0;
  const mainUs = (since: NodeJS.CpuUsage): number => {
    const used = process.cpuUsage(since);
    return used.user + used.system;
  };
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    nowMs += 1;
    const claimId = (0xc000000 + i).toString(16).padStart(24, '0');
    const claimStart = process.cpuUsage();
    const result = apply({ type: 'claim', nowMs, project: 'p', queue: 'q', claimId, limit: 20, ttlSeconds: 60, graceSeconds: 60, commandId: `c${i}` }) as {
      claim: { messages: { id: string }[] } | null;
    };
    claimUs += mainUs(claimStart);
    const ids = result.claim?.messages.map((m) => m.id) ?? [];
    claimed += ids.length;
    const deleteStart = process.cpuUsage();
    apply({ type: 'deleteMessages', nowMs, project: 'p', queue: 'q', ids, claimIds: [claimId] });
    deleteUs += mainUs(deleteStart);
    if (i % 4 === 0) await store.committed();
  }
  await store.flushed();
  const totalUs = mainUs(cpuBefore);
  const perMessage = (us: number): string => (us / claimed).toFixed(2);
  console.log(`${dist ?? 'src'}: ${claimed} messages claimed and deleted; process CPU ${perMessage(totalUs)} µs/msg; apply claim ${perMessage(claimUs)}, delete ${perMessage(deleteUs)} µs/msg`);
} finally {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}

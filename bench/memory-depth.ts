/**
 * Memory of a zaqar-ts node holding many queued messages: starts one node (1 replica),
 * fills it over msgpack WebSocket (pipelined message_post, batches of 100 bodies of 256
 * bytes, ttl 1 day) and reads the node's RSS (VmRSS, and the peak VmHWM) when empty, after
 * filling and after a settle, with the resident pages of each LMDB file (/proc/PID/smaps). Two layouts with the same message count, each on a fresh node:
 * one deep queue, and QUEUES queues of PER_QUEUE messages. Prints MiB and bytes per message.
 *
 *   npx tsx bench/memory-depth.ts                     # 1,000,000 deep vs 10,000 × 100
 *   npx tsx bench/memory-depth.ts --messages 100000   # smaller (queues scale: messages / 100)
 *   npx tsx bench/memory-depth.ts --quick             # 20,000 messages, a smoke run
 *   options: --layouts deep,wide (default both)  --cli PATH (another build's cli.js, for before/after)
 *            --settle S (seconds between the fill and the reading, default 5)
 *            --node-args "FLAGS" (node options for the server)  --heap-snapshot (each node writes a V8
 *            heap snapshot into the working directory after the settle, read with bench/heap-summary.ts)
 * Needs dist/ (npm run build). Bounded: each fill stops after --max-seconds (default 600).
 * Exits non-zero when a node does not start, a post fails or a fill posted nothing (CI runs
 * --quick so the bench cannot rot); the figures themselves are never checked.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { procMemoryMb, startZaqar, stopZaqar } from './e2e/nodes.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const total = Number(option('messages') ?? (argv.includes('--quick') ? 20_000 : 1_000_000));
const perQueue = 100;
const batch = 100;
const window = 16;
const maxSeconds = Number(option('max-seconds') ?? 600);
const cli = option('cli');
const layouts = (option('layouts') ?? 'deep,wide').split(',');
const heapSnapshot = argv.includes('--heap-snapshot');
const settleSeconds = Number(option('settle') ?? 5);
const anonymousLines: string[] = [];
const nodeArgs = [...(option('node-args')?.split(' ').filter((a) => a !== '') ?? []), ...(heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2'] : [])];
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'memory-bench' };
const body = { pad: 'a'.repeat(256 - 12) };

/** Posts `total` messages, `batch` per request, `window` requests in flight; queue picked per request. */
async function fill(wsUrl: string, queueOf: (request: number) => string): Promise<{ posted: number; seconds: number }> {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const requests = Math.ceil(total / batch);
  const started = Date.now();
  let sent = 0;
  let posted = 0;
  let retries = 0;
  const outstanding: string[] = [];
  const retry: string[] = [];
  const messages = Array.from({ length: batch }, () => ({ ttl: 86_400, body }));
  await new Promise<void>((resolve, reject) => {
    const sendMore = (): void => {
      while ((retry.length > 0 || sent < requests) && outstanding.length < window && Date.now() - started < maxSeconds * 1000) {
        const queue = retry.shift() ?? queueOf(sent++);
        outstanding.push(queue);
        ws.send(pack({ action: 'message_post', headers, body: { queue_name: queue, messages } }));
      }
      if (outstanding.length === 0) resolve();
    };
    ws.on('message', (data: Buffer) => {
      const queue = outstanding.shift() ?? '';
      const reply = unpack(data) as { headers?: { status?: number }; body?: unknown };
      const status = reply.headers?.status;
      // 503 is the node shedding load ("try again in a few seconds"): resend, boundedly.
      if (status === 503 && retries++ < 10_000) {
        retry.push(queue);
        setTimeout(sendMore, 100);
        return;
      }
      if (status !== 201) {
        reject(new Error(`message_post answered ${String(status)}: ${JSON.stringify(reply.body).slice(0, 300)}`));
        return;
      }
      posted += batch;
      sendMore();
    });
    ws.once('close', () => reject(new Error('socket closed')));
    sendMore();
  });
  ws.removeAllListeners('close');
  ws.close();
  if (retries > 0) console.error(`${retries} posts answered 503 and were resent`);
  return { posted, seconds: (Date.now() - started) / 1000 };
}

/** The node's own view of its memory (prom-client process metrics): JS heap used / external buffers, MiB. */
async function heapFigures(url: string): Promise<string> {
  const text = await fetch(`${url}/metrics`).then((response) => response.text(), () => '');
  const mb = (name: string): string => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? '?' : String(Math.round(Number(line.split(' ').pop()) / 1048576));
  };
  return `${mb('nodejs_heap_size_used_bytes')} (of ${mb('nodejs_heap_size_total_bytes')}) / ${mb('nodejs_external_memory_bytes')}`;
}

/** Resident MiB of the node's mappings of `file` (its LMDB chunks), from /proc/PID/smaps. */
function residentMbOf(pid: number, file: string): number {
  let kb = 0;
  for (const block of readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (block.slice(0, block.indexOf('\n')).endsWith(`/${file}`)) kb += Number(/\nRss:\s+(\d+)/.exec(block)?.[1] ?? 0);
  }
  return Math.round(kb / 1024);
}

/** Signals the node to write a heap snapshot (Heap.*.PID.*.heapsnapshot in the working directory) and waits for it. */
async function writeHeapSnapshot(pid: number): Promise<void> {
  const written = (): string | undefined => readdirSync('.').find((f) => f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot'));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  let size = -1;
  // V8 writes the file as it walks the heap: done when its size stops growing.
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const file = written();
    const now = file === undefined ? -1 : statSync(file).size;
    if (now > 0 && now === size) {
      console.log(`heap snapshot: ${file ?? ''}`);
      return;
    }
    size = now;
  }
  console.error(`no heap snapshot from ${pid} within 120 s`);
}

/**
 * The node's anonymous resident memory by kind of mapping, MiB: `[heap]` is the main thread's
 * malloc (Buffers' memory among it; glibc keeps freed pages inside it), V8 heap pages are
 * mappings of 256 KiB to 1 MiB, threads' malloc arenas are 1–64 MiB.
 */
function anonymousByMapping(pid: number): string {
  const groups = new Map<string, number>();
  for (const block of readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = block.slice(0, block.indexOf('\n'));
    const anon = Number(/\nAnonymous:\s+(\d+)/.exec(block)?.[1] ?? 0);
    if (anon === 0) continue;
    const [range] = head.split(' ');
    const [a, b] = (range ?? '0-0').split('-').map((h) => parseInt(h, 16));
    const size = ((b ?? 0) - (a ?? 0)) / 1024;
    const path = head.split(/\s+/).slice(5).join(' ');
    const kind = path === '[heap]' ? 'malloc [heap]' : path !== '' ? 'other' : size >= 256 && size <= 1024 ? 'V8 heap pages' : size > 1024 ? 'thread arenas' : 'other';
    groups.set(kind, (groups.get(kind) ?? 0) + anon);
  }
  return [...groups].sort((x, y) => y[1] - x[1]).map(([kind, kb]) => `${kind} ${Math.round(kb / 1024)}`).join(', ');
}

async function layout(name: string, queueOf: (request: number) => string): Promise<void> {
  const cluster = await startZaqar({ nodes: 1, nodeArgs, ...(cli === undefined ? {} : { cli }) });
  const node = cluster.nodes[0];
  try {
    if (node === undefined) return;
    const emptyMb = procMemoryMb(node.pid, 'VmRSS') ?? 0;
    const { posted, seconds } = await fill(node.wsUrl, queueOf);
    if (posted === 0) throw new Error(`${name}: no message posted within ${maxSeconds} s`);
    const filledMb = procMemoryMb(node.pid, 'VmRSS') ?? 0;
    await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    const settledMb = procMemoryMb(node.pid, 'VmRSS') ?? 0;
    const anonMb = procMemoryMb(node.pid, 'RssAnon') ?? 0;
    const rssFileMb = procMemoryMb(node.pid, 'RssFile') ?? 0;
    const peakMb = procMemoryMb(node.pid, 'VmHWM') ?? 0;
    const queueStateMb = residentMbOf(node.pid, 'zaqar.lmdb');
    const logMb = residentMbOf(node.pid, 'raft-log.lmdb');
    const heap = await heapFigures(node.url);
    const anonymous = anonymousByMapping(node.pid);
    // The LMDB files' sizes (queue state, Raft log): their pages, once touched, are what RssFile counts.
    const fileMb = (file: string): number => {
      try {
        return Math.round(statSync(join(cluster.dir, `node${node.id}`, file)).size / 1048576);
      } catch {
        return 0; // a build that keeps the log in zaqar.lmdb
      }
    };
    const perMessage = ((settledMb - emptyMb) * 1024 * 1024) / Math.max(1, posted);
    console.log(`| ${name} | ${posted.toLocaleString('en')} | ${Math.round(posted / seconds).toLocaleString('en')} | ${emptyMb} | ` +
      `${filledMb} | ${settledMb} (${anonMb} anon + ${rssFileMb} file: ${queueStateMb} queue state, ${logMb} log) | ${heap} | ${peakMb} | ` +
      `${perMessage.toFixed(0)} | ${fileMb('zaqar.lmdb')} + ${fileMb('raft-log.lmdb')} |`);
    anonymousLines.push(`${name}: ${anonymous}`);
    if (heapSnapshot) await writeHeapSnapshot(node.pid);
  } finally {
    await stopZaqar(cluster);
  }
}

console.log(`memory bench: node ${process.version}, ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ` +
  `${total.toLocaleString('en')} messages of 256 B, posts of ${batch}, ${window} in flight, one fresh node per layout, ${cli ?? 'dist/src/cli.js'}`);
console.log('| layout | messages | fill msgs/s | RSS empty MB | RSS filled MB | RSS after the settle MB (anonymous + file pages: LMDB queue state, log) | JS heap used (of total) / external MB | peak RSS MB | bytes/message above empty | LMDB files MB (queue state + log) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
if (layouts.includes('deep')) await layout('1 queue', () => 'deep');
const queues = Math.max(1, Math.round(total / perQueue));
if (layouts.includes('wide')) await layout(`${queues.toLocaleString('en')} queues × ${perQueue}`, (request) => `q${request % queues}`);
console.log(`\nanonymous resident MiB by mapping, after the settle:\n${anonymousLines.join('\n')}`);

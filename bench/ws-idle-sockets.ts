/**
 * Memory cost of idle WebSocket connections on the server: opens SOCKETS (default
 * 1000) connections that each do one request and then stay idle, and prints the
 * server's RSS before and after and the delta per socket. Printed, not asserted.
 *
 *   npm run build && npx tsx bench/ws-idle-sockets.ts        (SOCKETS=5000 for more)
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { BenchServer } from './ws-bench-server.js';

const socketCount = Number(process.env['SOCKETS'] ?? 1000);
const batchSize = 100;
const headers = { 'Client-ID': randomUUID(), 'X-Project-ID': 'bench' };

async function openIdle(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const answered = new Promise((resolve) => ws.once('message', resolve));
  ws.send(JSON.stringify({ action: 'queue_list', headers }));
  await answered;
  return ws;
}

async function settle(server: BenchServer): Promise<number> {
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return server.rssBytes();
}

async function main(): Promise<void> {
  const server = await BenchServer.start();
  console.log(`config: sockets=${socketCount} server=${server.url} (each socket: upgrade + one queue_list, then idle)`);
  try {
    const warm = await Promise.all(Array.from({ length: 20 }, () => openIdle(server.wsUrl)));
    for (const ws of warm) ws.close();
    const before = await settle(server);
    const sockets: WebSocket[] = [];
    for (let opened = 0; opened < socketCount; opened += batchSize) {
      const batch = Math.min(batchSize, socketCount - opened);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => openIdle(server.wsUrl)))));
    }
    const after = await settle(server);
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
    console.log(`server RSS before: ${mib(before)} MiB`);
    console.log(`server RSS with ${sockets.length} idle sockets: ${mib(after)} MiB`);
    console.log(`delta: ${mib(after - before)} MiB = ${((after - before) / sockets.length / 1024).toFixed(1)} KiB per socket`);
    await Promise.all(sockets.map((ws) => new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close();
    })));
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

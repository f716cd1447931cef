/**
 * Producer throughput over one WebSocket (ENCODING=msgpack, the default, or json; or
 * ENCODING=http for the HTTP transport): MESSAGES (default 20 000) messages of
 * BODY_BYTES (default 100) bytes through zaqar-ts/client's batching Producer, after a
 * warm-up of 1 000. Prints the configuration, messages per second, and the p50/p99
 * latency from `send` to acknowledgement (which includes time spent batching).
 *
 *   npm run build && npx tsx bench/ws-producer.ts
 */
import { createClient, Producer } from '../src/client/zaqar-client.js';
import { BenchServer } from './ws-bench-server.js';

const messageCount = Number(process.env['MESSAGES'] ?? 20_000);
const bodyBytes = Number(process.env['BODY_BYTES'] ?? 100);
const encoding = process.env['ENCODING'] ?? 'msgpack';
const producerOptions = { batchMessagesMax: 100, lingerMs: 2, inFlightBatchesMax: 8, bufferedMessagesMax: 50_000 };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(producer: Producer, count: number, body: string): Promise<number[]> {
  const latencies: number[] = [];
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    sends.push(producer.send({ body: { i, pad: body } }).then(() => {
      latencies.push(performance.now() - started);
    }));
  }
  await Promise.all(sends);
  return latencies;
}

async function main(): Promise<void> {
  const server = await BenchServer.start();
  const client = encoding === 'http'
    ? createClient({ url: server.url, project: 'bench' })
    : createClient({ url: server.wsUrl, project: 'bench', encoding: encoding === 'json' ? 'json' : 'msgpack', inFlightMax: 64 });
  const producer = new Producer(client, { queue: 'bench', ...producerOptions });
  const body = 'x'.repeat(bodyBytes);
  console.log(`config: messages=${messageCount} bodyBytes=${bodyBytes} producer=${JSON.stringify(producerOptions)} encoding=${encoding}`);
  try {
    await run(producer, 1000, body);
    const started = performance.now();
    const latencies = await run(producer, messageCount, body);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(`throughput: ${Math.round(messageCount / seconds)} messages/s (${seconds.toFixed(2)} s)`);
    console.log(`send→ack latency: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  } finally {
    await producer.close();
    await client.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

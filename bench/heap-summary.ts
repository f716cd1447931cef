/**
 * Sums a V8 heap snapshot (.heapsnapshot, e.g. from `bench/memory-depth.ts --heap-snapshot`) by
 * node type and constructor name: count and self size, largest first. Shows what a layout of
 * queues keeps on the JavaScript heap without a browser.
 *
 *   npx tsx bench/heap-summary.ts FILE [--top N]
 */
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (file === undefined) {
  console.error('usage: npx tsx bench/heap-summary.ts FILE [--top N]');
  process.exit(2);
}
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 40;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snapshot.snapshot.meta.node_fields;
const types = snapshot.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf('type');
const nameAt = fields.indexOf('name');
const sizeAt = fields.indexOf('self_size');

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snapshot.nodes.length; i += width) {
  const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? '?';
  // Strings and code are grouped by type only: their "names" are their contents.
  const name = type === 'object' || type === 'closure' || type === 'native' ? snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? '?' : '';
  const key = `${type} ${name}`.trim();
  const size = snapshot.nodes[i + sizeAt] ?? 0;
  total += size;
  const group = groups.get(key) ?? { count: 0, bytes: 0 };
  group.count += 1;
  group.bytes += size;
  groups.set(key, group);
}
console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB in ${(snapshot.nodes.length / width).toLocaleString('en')} nodes`);
console.log('| type and constructor | count | self MiB | bytes each |');
console.log('|---|---:|---:|---:|');
for (const [key, { count, bytes }] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`| ${key.slice(0, 80)} | ${count.toLocaleString('en')} | ${(bytes / 1048576).toFixed(2)} | ${Math.round(bytes / count)} |`);
}

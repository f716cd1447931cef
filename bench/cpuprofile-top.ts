/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N, and the
 * share of time in each top-level area (src/ module folder, node internals, native,
 * GC, idle), then the top N of our own functions (src/) by total time, i.e. including what
 * they call (each function counted once per sample, however deep it recurses).
 * Usage: npx tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${url.replace(/^file:\/\/.*?\/(src|node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}
function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const src = /\/src\/([^/]+)(?:\/([^/]+))?/.exec(url);
  if (src !== null) return `src/${src[1] ?? ''}${src[2] !== undefined && !src[2].includes('.') ? `/${src[2]}` : ''}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return `npm ${pkg[1] ?? ''}`;
  return url.startsWith('node:') ? 'node internals' : 'other js';
}

const byLabel = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (node === undefined) continue;
  byLabel.set(label(node), (byLabel.get(label(node)) ?? 0) + us);
  byArea.set(area(node), (byArea.get(area(node)) ?? 0) + us);
}
const pct = (us: number): string => `${((us / total) * 100).toFixed(1)}%`;
const top = Number(topArg ?? 25);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by area:');
for (const [name, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us).padStart(6)}  ${name}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [name, us] of [...byLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(6)}  ${name}`);

// Total (inclusive) time: walk each sampled node's stack up to the root.
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const totalByLabel = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const node = byId.get(at);
    if (node === undefined || !/\/src\//.test(node.callFrame.url)) continue;
    const name = label(node);
    if (seen.has(name)) continue;
    seen.add(name);
    totalByLabel.set(name, (totalByLabel.get(name) ?? 0) + us);
  }
}
console.log(`\ntop ${top} of our functions by total time (self + callees):`);
for (const [name, us] of [...totalByLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(6)}  ${name}`);

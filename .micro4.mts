import { Packr } from 'msgpackr';
const packr = new Packr({ useRecords: false, variableMapSize: true });
const ids = Array.from({ length: 10 }, (_, i) => `5f1e2d3c4b5a69788796a5b${i}`);
const headers = { 'Client-ID': '3381af92-2b9e-11e3-b191-71861300734c', 'X-Project-ID': 'perf-anchors' };
const bodyBytes = new Uint8Array(2500); const head = new Uint8Array(10); const before = new Uint8Array(20);
function time(name: string, f: () => unknown, n = 200000) {
  for (let i = 0; i < 5000; i++) f();
  const t = process.cpuUsage(); for (let i = 0; i < n; i++) f(); const c = process.cpuUsage(t);
  console.log(name.padEnd(24), ((c.user + c.system) / n).toFixed(2), 'µs cpu');
}
for (let k = 0; k < 2; k++) {
time('pack after', () => packr.pack(['headers', headers, 'api', 'v2', 'headers', { status: 201 }, 'body', { message_ids: ids }]));
const after = packr.pack(['headers', headers, 'api', 'v2', 'headers', { status: 201 }, 'body', { message_ids: ids }]);
time('concat', () => Buffer.concat([head, before, bodyBytes, after.subarray(1)]));
time('allocUnsafe 3k', () => Buffer.allocUnsafe(3000));
time('Uint8Array 3k', () => new Uint8Array(3000));
}

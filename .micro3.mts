import { pack } from 'msgpackr';
const dist = '/work/wt-reqpath/dist';
const { messageBodyExtents } = await import(`${dist}/src/transport/ws/msgpack-extent.js`);
const { encodeBody } = await import(`${dist}/src/cluster/shard/body-codec.js`);
const pad = 'a'.repeat(216);
const msgs = Array.from({ length: 10 }, () => ({ ttl: 3600, body: { ts: performance.timeOrigin + performance.now(), pad } }));
const body = new Uint8Array(pack({ queue_name: 'q-abc', messages: msgs }));
function time(name: string, f: () => unknown, n = 100000) {
  for (let i = 0; i < 5000; i++) f();
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(t);
  console.log(name.padEnd(24), ((c.user + c.system) / n).toFixed(2), 'µs cpu/frame');
}
for (let k = 0; k < 2; k++) {
time('extents', () => messageBodyExtents(body));
time('extents+subarray', () => messageBodyExtents(body)!.map((e: any) => body.subarray(e.start, e.end)));
time('encodeBody x10', () => msgs.map((m) => encodeBody(m.body)));
}

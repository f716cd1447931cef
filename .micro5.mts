const a = await import('/work/wt-reqpath/.base-dist/src/cluster/shard-map.js');
const b = await import('/work/wt-reqpath/dist/src/cluster/shard-map.js');
function time(name: string, f: () => unknown, n = 1000000) {
  for (let i = 0; i < 5000; i++) f();
  const t = process.cpuUsage(); for (let i = 0; i < n; i++) f(); const c = process.cpuUsage(t);
  console.log(name.padEnd(24), ((c.user + c.system) / n * 1000).toFixed(0), 'ns cpu');
}
for (let k = 0; k < 3; k++) { time('old queueHash', () => a.queueHash('perf-anchors', 'zaqar-ws-load-q1')); time('new queueHash', () => b.queueHash('perf-anchors', 'zaqar-ws-load-q1')); }

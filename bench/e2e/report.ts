/**
 * Tables for the end-to-end bench: every measured row (zaqar-ts and peers, same run),
 * then the issue's targets with the ratio each row reached. Peers missing from the run
 * are reported as such, never invented; the real-Zaqar anchor (not installable here) is
 * the figure measured on this machine and stated in the target.
 */
import type { ResultRow } from './loaders.js';

const fmt = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : value.toLocaleString('en', { maximumFractionDigits: digits });

export function rowsTable(rows: readonly ResultRow[]): string {
  const lines = [
    '| system | replication | workload | msgs/s | p50 ms | p99 ms | peak RSS MB (per node) | CPU % server / loader / other | server CPU µs/msg (main thread) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const rss = row.node_rss_mb !== undefined ? row.node_rss_mb.map((v) => fmt(v)).join(' / ') : fmt(row.peak_rss_mb);
    const cpu = `${fmt(row.server_cpu_pct)} / ${fmt(row.loader_cpu_pct)} / ${fmt(row.other_cpu_pct)}`;
    const ledFrom = row.entry_led_from_s === undefined ? '' : ` (its leader from ${row.entry_led_from_s.toFixed(1)} s into the run)`;
    const via = row.entered_by === undefined ? '' : `, via the shard's ${row.entered_by}${ledFrom}`;
    lines.push(`| ${row.system} | ${row.replication ?? ''}${via} | ${row.workload}${row.error ? ` (error: ${row.error})` : ''} | ` +
      `${fmt(row.msgs_per_s)} | ${fmt(row.p50_ms, 2)} | ${fmt(row.p99_ms, 2)} | ${rss} | ${cpu} | ${fmt(row.server_cpu_us_per_msg, 1)}${row.server_main_cpu_us_per_msg === undefined ? '' : ` (${fmt(row.server_main_cpu_us_per_msg, 1)})`} |`);
  }
  return lines.join('\n');
}

type Pick = (rows: readonly ResultRow[]) => ResultRow | undefined;

/** The row with the highest rate among those matching. */
function best(match: (row: ResultRow) => boolean): Pick {
  return (rows) => rows.filter(match).sort((a, b) => (b.msgs_per_s ?? 0) - (a.msgs_per_s ?? 0))[0];
}

const zaqarR3 = (row: ResultRow): boolean => row.system.startsWith('zaqar-ts') && /3 replicas/.test(row.replication ?? '');
const zaqarR1 = (row: ResultRow): boolean => row.system.startsWith('zaqar-ts') && /1 replica\b/.test(row.replication ?? '');
const natsR3 = (row: ResultRow): boolean => /NATS/.test(row.system) && /R3/.test(row.replication ?? '');
const natsR1 = (row: ResultRow): boolean => /NATS/.test(row.system) && /R1/.test(row.replication ?? '');
const rabbit3 = (row: ResultRow): boolean => /RabbitMQ/.test(row.system) && /3 members/.test(row.replication ?? '');

interface Target {
  readonly name: string;
  readonly ours: Pick;
  /** A peer row, or a fixed anchor. */
  readonly peer: Pick | { readonly label: string; readonly value: number };
  readonly factor: number;
  /** 'rate': ours ≥ factor × peer; 'p99': ours ≤ peer. */
  readonly kind: 'rate' | 'p99';
}

const realZaqarPost = { label: 'real Zaqar 15 on Redis, HTTP loader (issue anchor, not run here)', value: 3_500 };

export const targets: readonly Target[] = [
  { name: 'WS msgpack producers, 3 replicas ≥ 2× NATS JetStream R3 publish', kind: 'rate', factor: 2,
    ours: best((r) => zaqarR3(r) && /WS message_post/.test(r.workload)), peer: best((r) => natsR3(r) && /^publish/.test(r.workload)) },
  { name: 'claim + delete consumers, 3 replicas ≥ 2× NATS JetStream R3 consume', kind: 'rate', factor: 2,
    ours: best((r) => zaqarR3(r) && /claim/.test(r.workload) && !/e2e/.test(r.workload)), peer: best((r) => natsR3(r) && /^consume/.test(r.workload)) },
  { name: 'single node (1 replica) msgpack producers ≥ 1.5× NATS R1 publish', kind: 'rate', factor: 1.5,
    ours: best((r) => zaqarR1(r) && /WS message_post/.test(r.workload)), peer: best((r) => natsR1(r) && /^publish/.test(r.workload)) },
  { name: 'HTTP producers, 3 replicas ≥ 30× real Zaqar 15', kind: 'rate', factor: 30,
    ours: best((r) => zaqarR3(r) && /POST messages/.test(r.workload)), peer: realZaqarPost },
  { name: 'e2e p99 @ 1,000 msg/s, 3 replicas ≤ NATS JetStream R3', kind: 'p99', factor: 1,
    ours: (rows) => rows.filter((r) => zaqarR3(r) && /e2e/.test(r.workload)).sort((a, b) => (a.p99_ms ?? Infinity) - (b.p99_ms ?? Infinity))[0],
    peer: best((r) => natsR3(r) && /^e2e/.test(r.workload)) },
  { name: 'WS msgpack producers, 3 replicas vs RabbitMQ quorum R3 publish (no target; same durability class)', kind: 'rate', factor: 1,
    ours: best((r) => zaqarR3(r) && /WS message_post/.test(r.workload)), peer: best((r) => rabbit3(r) && /^publish/.test(r.workload)) },
];

export function targetsTable(rows: readonly ResultRow[]): string {
  const lines = ['| target | zaqar-ts | peer | ratio | met? |', '|---|---:|---:|---:|---|'];
  for (const target of targets) {
    const ours = target.ours(rows);
    const peerRow = typeof target.peer === 'function' ? target.peer(rows) : undefined;
    const peerValue = typeof target.peer === 'function'
      ? (target.kind === 'p99' ? peerRow?.p99_ms : peerRow?.msgs_per_s)
      : target.peer.value;
    const peerLabel = typeof target.peer === 'function' ? (peerRow === undefined ? 'not run' : `${peerRow.system}: ${peerRow.workload}`) : target.peer.label;
    const ourValue = target.kind === 'p99' ? ours?.p99_ms : ours?.msgs_per_s;
    if (ourValue == null || peerValue == null) {
      lines.push(`| ${target.name} | ${fmt(ourValue, 2)} | ${fmt(peerValue, 2)} (${peerLabel}) | — | not measured |`);
      continue;
    }
    const ratio = target.kind === 'p99' ? ourValue / peerValue : ourValue / peerValue;
    const met = target.kind === 'p99' ? ourValue <= peerValue : ratio >= target.factor;
    const unit = target.kind === 'p99' ? ' ms p99' : '/s';
    lines.push(`| ${target.name} | ${fmt(ourValue, 2)}${unit} | ${fmt(peerValue, 2)}${unit} (${peerLabel}) | ${ratio.toFixed(2)}× | ` +
      `${met ? 'yes' : target.kind === 'p99' ? `no: ${ratio.toFixed(1)}× the peer's p99` : `no: ${(ratio / target.factor * 100).toFixed(0)}% of the target`} |`);
  }
  return lines.join('\n');
}

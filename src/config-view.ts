/**
 * `zaqar-ts config`: the effective configuration (defaults, file, environment and flags
 * already merged and checked) under the option names the file uses, so an operator can
 * see what a node would run with. Secrets are redacted: the output is meant to be pasted
 * into tickets and logs.
 */
import { apiOptionTable, wsOptionTable, type NodeConfig } from './config.js';
import { defaultQueueCommitDelayMs } from './log/lmdb/write-hold.js';

const secretOptions = new Set(['signed_url.secret_key']);
const redacted = '<redacted>';

export function describeConfig(config: NodeConfig): Record<string, unknown> {
  const view: Record<string, unknown> = {
    listen: `${config.host}:${config.port}`,
    data_dir: config.dataDir,
    shard_count: config.shardCount,
    enable_checksum: config.enableChecksum,
    lmdb_map_in_chunks: config.lmdbMapInChunks ?? true,
    queue_state_commit_delay_ms: config.queueStateCommitDelayMs ?? defaultQueueCommitDelayMs,
    ws_listen: config.wsListen === undefined ? null : `${config.wsListen.host}:${config.wsListen.port}`,
    metrics_listen: config.metricsListen === undefined ? null : `${config.metricsListen.host}:${config.metricsListen.port}`,
    log_level: config.logLevel ?? 'info',
    drain_timeout_seconds: config.drainTimeoutSeconds ?? 30,
  };
  for (const [name, key] of apiOptionTable) {
    const value = config.api[key];
    view[name] = secretOptions.has(name) && value !== undefined ? redacted : (value ?? null);
  }
  if (config.ws !== undefined) {
    for (const [name, key] of wsOptionTable) view[name] = config.ws[key];
  }
  return view;
}

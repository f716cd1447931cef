/**
 * Node configuration from three sources, later ones winning: built-in defaults, a JSON
 * config file, environment variables, command-line flags. Option names in the file are
 * Zaqar's (`max_messages_post_size`, `default_message_ttl`, `signed_url.secret_key`...),
 * either flat or grouped in sections (`{"transport": {...}, "signed_url": {...}}`).
 * Every value is checked at start; an invalid one fails with a ConfigError naming the
 * option, so a bad deployment never half-starts.
 */
import { readFileSync } from 'node:fs';
import { defaultApiOptions, type ApiOptions } from './api/api-options.js';
import { defaultWsLimits, type WsLimits } from './transport/ws/ws-limits.js';
import { logLevels, type LogLevel } from './logger.js';
import { loadClusterConfig, type ClusterConfig, type RaftCompactionOptions } from './cluster-config.js';
import { defaultShardCount } from './cluster/shard-map.js';
import { loadSecurityConfig, securityOptionKinds, type SecurityConfig } from './security-config.js';
import { loadNotificationConfig, notificationOptionKinds, type NotificationConfig } from './notification-config.js';

export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

export interface NodeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly shardCount: number;
  readonly enableChecksum: boolean;
  /** LMDB file mapped in chunks (smaller resident set, some CPU per page access); absent: true. */
  readonly lmdbMapInChunks?: boolean;
  /** `queue_state_commit_delay_ms`: how long queue-state writes are held to share a transaction (write-hold.ts); absent: the default. */
  readonly queueStateCommitDelayMs?: number;
  readonly api: ApiOptions;
  /** A WebSocket-only listener besides path `/` of the HTTP port (Zaqar's port 9000); undefined: none. */
  readonly wsListen?: { readonly host: string; readonly port: number };
  /** WebSocket bounds; defaultWsLimits when absent. */
  readonly ws?: WsLimits;
  /** `metrics_listen`: an extra listener serving only `GET /metrics`; undefined: the API port's /metrics only. */
  readonly metricsListen?: { readonly host: string; readonly port: number };
  /** `log_level`; default info. */
  readonly logLevel?: LogLevel;
  /** `drain_timeout_seconds`: how long SIGTERM waits for requests in flight (default 30). */
  readonly drainTimeoutSeconds?: number;
  /** Node id, peers and replication; absent: a cluster of one. */
  readonly cluster?: ClusterConfig;
  /** Authentication and TLS (security-config.ts); absent: noauth, plaintext. */
  readonly security?: SecurityConfig;
  /** `[notification]` and `message_pipeline` (notification-config.ts); defaults when absent. */
  readonly notification?: NotificationConfig;
}

export interface ConfigSources {
  /** Parsed flags: `listen`, `data-dir`, `config`. */
  readonly flags: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Kind = 'positive' | 'nonNegative' | 'boolean' | 'string' | 'clientIdMode' | 'apiVersions' | 'positiveOrString' | 'any';

/** File option → (ApiOptions key or node key, kind). */
export const apiOptionTable: ReadonlyArray<readonly [string, keyof ApiOptions, Kind]> = [
  ['default_message_ttl', 'defaultMessageTtlSeconds', 'positive'],
  ['default_message_delay', 'defaultMessageDelaySeconds', 'nonNegative'],
  ['default_claim_ttl', 'defaultClaimTtlSeconds', 'positive'],
  ['default_claim_grace', 'defaultClaimGraceSeconds', 'positive'],
  ['max_queues_per_page', 'maxQueuesPerPage', 'positive'],
  ['max_messages_per_page', 'maxMessagesPerPage', 'positive'],
  ['max_messages_per_claim_or_pop', 'maxMessagesPerClaimOrPop', 'positive'],
  ['max_queue_metadata', 'maxQueueMetadataBytes', 'positive'],
  ['max_messages_post_size', 'maxMessagesPostSizeBytes', 'positive'],
  ['max_message_ttl', 'maxMessageTtlSeconds', 'positive'],
  ['max_message_delay', 'maxMessageDelaySeconds', 'nonNegative'],
  ['max_claim_ttl', 'maxClaimTtlSeconds', 'positive'],
  ['max_claim_grace', 'maxClaimGraceSeconds', 'positive'],
  ['client_id_uuid_safe', 'clientIdUuidSafe', 'clientIdMode'],
  ['min_length_client_id', 'minLengthClientId', 'positive'],
  ['max_length_client_id', 'maxLengthClientId', 'positive'],
  ['message_delete_with_claim_id', 'messageDeleteWithClaimId', 'boolean'],
  ['admin_mode', 'adminMode', 'boolean'],
  ['signed_url.secret_key', 'signedUrlSecretKey', 'string'],
  ['enable_deprecated_api_versions', 'deprecatedApiVersions', 'apiVersions'],
  ['max_queues_per_project', 'maxQueuesPerProject', 'positive'],
  ['max_messages_per_project', 'maxMessagesPerProject', 'positive'],
];

const nodeOptionKinds: Readonly<Record<string, Kind>> = {
  log_level: 'string',
  metrics_listen: 'string',
  drain_timeout_seconds: 'positive',
  enable_checksum: 'boolean',
  lmdb_map_in_chunks: 'boolean',
  queue_state_commit_delay_ms: 'nonNegative',
  shard_count: 'positive',
  listen: 'string',
  data_dir: 'string',
  ws_listen: 'string',
  ws_max_payload_bytes: 'positive',
  ws_max_backpressure_bytes: 'positive',
  ws_idle_timeout_seconds: 'nonNegative',
  ws_in_flight_per_socket_max: 'positive',
  ws_queued_per_socket_max: 'positive',
  // Checked by cluster-config.ts (peers may be a string or an object).
  node_id: 'positiveOrString',
  peers: 'any',
  raft_listen: 'string',
  advertise: 'string',
  join: 'any',
  replicas: 'positiveOrString',
  ...securityOptionKinds,
  initial_members: 'any',
  'raft.snapshot_every_entries': 'positive',
  'raft.snapshot_every_bytes': 'positive',
  'raft.snapshot_tail_entries': 'nonNegative',
  'raft.snapshot_node_bytes': 'positive',
  'raft.persist_rounds_in_flight': 'positive',
  'raft.leaders_follow_traffic': 'boolean',
  ...notificationOptionKinds,
};

/** File option → WsLimits key. */
export const wsOptionTable: ReadonlyArray<readonly [string, keyof WsLimits]> = [
  ['ws_max_payload_bytes', 'maxPayloadBytes'],
  ['ws_max_backpressure_bytes', 'maxBackpressureBytes'],
  ['ws_idle_timeout_seconds', 'idleTimeoutSeconds'],
  ['ws_in_flight_per_socket_max', 'inFlightPerSocketMax'],
  ['ws_queued_per_socket_max', 'queuedPerSocketMax'],
];

/** Sections whose keys are plain option names (Zaqar's groups for the same options). */
const plainSections = new Set(['DEFAULT', 'transport', 'limits:transport', 'node', 'drivers:transport:wsgi', 'storage']);

export function loadConfig(sources: ConfigSources): NodeConfig {
  const configPath = sources.flags['config'] ?? sources.env['ZAQAR_CONFIG'];
  // Every option may also come from the environment as ZAQAR_<NAME> (`.` becomes `__`), winning over the file.
  const file = { ...(configPath === undefined ? {} : readConfigFile(configPath)), ...optionsFromEnv(sources.env) };
  const known = new Set([...apiOptionTable.map(([name]) => name), ...Object.keys(nodeOptionKinds)]);
  for (const name of Object.keys(file)) {
    if (!known.has(name)) throw new ConfigError(`unknown option "${name}" in ${configPath ?? 'config'}`);
  }
  const api: Record<string, unknown> = { ...defaultApiOptions };
  for (const [name, key, kind] of apiOptionTable) {
    if (Object.hasOwn(file, name)) api[key] = checkValue(name, file[name], kind);
  }
  const listen = sources.flags['listen'] ?? sources.env['ZAQAR_LISTEN'] ?? optionalString(file, 'listen') ?? '127.0.0.1:8888';
  const { host, port } = parseListen(listen);
  const wsListen = sources.flags['ws-listen'] ?? sources.env['ZAQAR_WS_LISTEN'] ?? optionalString(file, 'ws_listen');
  const metricsListen = sources.flags['metrics-listen'] ?? optionalString(file, 'metrics_listen');
  const logLevel = sources.flags['log-level'] ?? optionalString(file, 'log_level') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`option log_level must be one of ${logLevels.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const ws: Record<string, unknown> = { ...defaultWsLimits };
  for (const [name, key] of wsOptionTable) {
    if (Object.hasOwn(file, name)) ws[key] = checkValue(name, file[name], nodeOptionKinds[name] ?? 'positive');
  }
  const config: NodeConfig = {
    host,
    port,
    dataDir: sources.flags['data-dir'] ?? sources.env['ZAQAR_DATA_DIR'] ?? optionalString(file, 'data_dir') ?? './data',
    shardCount: shardCountOf(sources, file),
    enableChecksum: Object.hasOwn(file, 'enable_checksum') && checkValue('enable_checksum', file['enable_checksum'], 'boolean') === true,
    lmdbMapInChunks: !Object.hasOwn(file, 'lmdb_map_in_chunks') || checkValue('lmdb_map_in_chunks', file['lmdb_map_in_chunks'], 'boolean') === true,
    ...(Object.hasOwn(file, 'queue_state_commit_delay_ms')
      ? { queueStateCommitDelayMs: checkValue('queue_state_commit_delay_ms', file['queue_state_commit_delay_ms'], 'nonNegative') as number }
      : {}),
    api: api as unknown as ApiOptions,
    ...(wsListen === undefined ? {} : { wsListen: parseListen(wsListen, 'ws_listen') }),
    ws: ws as unknown as WsLimits,
    ...(metricsListen === undefined ? {} : { metricsListen: parseListen(metricsListen, 'metrics_listen') }),
    logLevel: logLevel as LogLevel,
    ...(Object.hasOwn(file, 'drain_timeout_seconds')
      ? { drainTimeoutSeconds: checkValue('drain_timeout_seconds', file['drain_timeout_seconds'], 'positive') as number }
      : {}),
    cluster: loadClusterConfig(
      {
        nodeId: sources.flags['node-id'] ?? sources.env['ZAQAR_NODE_ID'] ?? file['node_id'],
        peers: sources.flags['peers'] ?? sources.env['ZAQAR_PEERS'] ?? file['peers'],
        raftListen: sources.flags['raft-listen'] ?? sources.env['ZAQAR_RAFT_LISTEN'] ?? file['raft_listen'],
        advertise: sources.flags['advertise'] ?? sources.env['ZAQAR_ADVERTISE'] ?? file['advertise'],
        join: sources.flags['join'] ?? sources.env['ZAQAR_JOIN'] ?? file['join'],
        replicas: sources.flags['replicas'] ?? sources.env['ZAQAR_REPLICAS'] ?? file['replicas'],
        initialMembers: sources.flags['initial-members'] ?? sources.env['ZAQAR_INITIAL_MEMBERS'] ?? file['initial_members'],
        compaction: raftCompactionOf(file),
        ...(Object.hasOwn(file, 'raft.persist_rounds_in_flight')
          ? { persistRoundsInFlightMax: checkValue('raft.persist_rounds_in_flight', file['raft.persist_rounds_in_flight'], 'positive') as number }
          : {}),
        ...(Object.hasOwn(file, 'raft.leaders_follow_traffic')
          ? { leadersFollowTraffic: checkValue('raft.leaders_follow_traffic', file['raft.leaders_follow_traffic'], 'boolean') as boolean }
          : {}),
      },
      (message) => new ConfigError(message),
    ),
    notification: loadNotificationConfig(checkedOptions(file, notificationOptionKinds), (message) => new ConfigError(message)),
  };
  checkConsistency(config.api);
  return { ...config, security: loadSecurityConfig(file, (message) => new ConfigError(message)) };
}

/** Shards per node: --shards, ZAQAR_SHARDS, or the file's shard_count (default 16, ShardMap's). */
function shardCountOf(sources: ConfigSources, file: Record<string, unknown>): number {
  const raw = sources.flags['shards'] ?? sources.env['ZAQAR_SHARDS'];
  if (raw !== undefined) return checkValue('shard_count', /^\d+$/.test(raw) ? Number(raw) : raw, 'positive') as number;
  return Object.hasOwn(file, 'shard_count') ? (checkValue('shard_count', file['shard_count'], 'positive') as number) : defaultShardCount;
}

/** Environment name of an option: `signed_url.secret_key` → `ZAQAR_SIGNED_URL__SECRET_KEY`. */
export function envNameOf(option: string): string {
  return `ZAQAR_${option.toUpperCase().replace(/\./g, '__')}`;
}

/**
 * Options set in the environment. A string option takes the value as it is (a numeric
 * secret stays a string); others are read as JSON when they parse (numbers, booleans,
 * lists), else as strings, and then checked like the file's.
 */
function optionsFromEnv(env: ConfigSources['env']): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  const kinds = new Map<string, Kind>([...apiOptionTable.map(([option, , kind]) => [option, kind] as const), ...Object.entries(nodeOptionKinds)]);
  for (const [name, kind] of kinds) {
    const raw = env[envNameOf(name)];
    if (raw === undefined) continue;
    if (kind === 'string') {
      found[name] = raw;
      continue;
    }
    try {
      found[name] = JSON.parse(raw) as unknown;
    } catch {
      found[name] = raw;
    }
  }
  return found;
}

function optionalString(file: Record<string, unknown>, name: string): string | undefined {
  return Object.hasOwn(file, name) ? (checkValue(name, file[name], 'string') as string) : undefined;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return flatten(parsed as Record<string, unknown>);
}

/** `{"signed_url": {"secret_key": "x"}}` → `signed_url.secret_key`; plain sections merge flat. */
function flatten(document: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        flat[plainSections.has(key) ? inner : `${key}.${inner}`] = innerValue;
      }
    } else {
      flat[key] = value;
    }
  }
  return flat;
}

function checkValue(name: string, value: unknown, kind: Kind): unknown {
  const fail = (want: string): ConfigError => new ConfigError(`option ${name} must be ${want}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case 'positive':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw fail('a positive integer');
      return value;
    case 'nonNegative':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail('a non-negative integer');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw fail('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string' || value === '') throw fail('a non-empty string');
      return value;
    case 'apiVersions':
      if (!Array.isArray(value) || !value.every((v) => v === '1' || v === '1.1')) throw fail('a list of "1" and "1.1"');
      return value;
    case 'positiveOrString':
    case 'any':
      return value;
    case 'clientIdMode':
      if (value !== 'strict' && value !== 'off') throw fail('"strict" or "off"');
      return value;
  }
}

export function parseListen(listen: string, option = 'listen'): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  const port = match === null ? NaN : Number(match[2]);
  const host = match?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (host === '' || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(`option ${option} must be HOST:PORT, got ${JSON.stringify(listen)}`);
  }
  return { host, port };
}

/** The file's raft.snapshot_* options (units in the names; defaults in shard-compactor.ts). */
function raftCompactionOf(file: Readonly<Record<string, unknown>>): RaftCompactionOptions {
  const value = (name: string): number | undefined =>
    Object.hasOwn(file, `raft.${name}`) ? (checkValue(`raft.${name}`, file[`raft.${name}`], nodeOptionKinds[`raft.${name}`] ?? 'positive') as number) : undefined;
  const [snapshotEveryEntries, snapshotEveryBytes, tailEntriesMax, nodeBytesMax] =
    [value('snapshot_every_entries'), value('snapshot_every_bytes'), value('snapshot_tail_entries'), value('snapshot_node_bytes')];
  return {
    ...(snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries }),
    ...(snapshotEveryBytes === undefined ? {} : { snapshotEveryBytes }),
    ...(tailEntriesMax === undefined ? {} : { tailEntriesMax }),
    ...(nodeBytesMax === undefined ? {} : { nodeBytesMax }),
  };
}

/** The options of `kinds` the file sets, each checked against its kind. */
function checkedOptions(file: Readonly<Record<string, unknown>>, kinds: Readonly<Record<string, Kind>>): Record<string, unknown> {
  const checked: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    if (Object.hasOwn(file, name)) checked[name] = checkValue(name, file[name], kind);
  }
  return checked;
}

function checkConsistency(api: ApiOptions): void {
  if (api.minLengthClientId > api.maxLengthClientId) {
    throw new ConfigError('option min_length_client_id must not exceed max_length_client_id');
  }
  if (api.defaultMessageTtlSeconds < 60 || api.defaultMessageTtlSeconds > api.maxMessageTtlSeconds) {
    throw new ConfigError('option default_message_ttl must lie between 60 and max_message_ttl');
  }
  if (api.defaultClaimTtlSeconds < 60 || api.defaultClaimTtlSeconds > api.maxClaimTtlSeconds) {
    throw new ConfigError('option default_claim_ttl must lie between 60 and max_claim_ttl');
  }
  if (api.defaultMessageDelaySeconds > api.maxMessageDelaySeconds) {
    throw new ConfigError('option default_message_delay must not exceed max_message_delay');
  }
}

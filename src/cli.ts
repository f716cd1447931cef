#!/usr/bin/env node
/**
 * The `zaqar-ts` command. `zaqar-ts serve [--listen HOST:PORT] [--data-dir DIR]
 * [--config FILE]` starts one node (env: ZAQAR_LISTEN, ZAQAR_DATA_DIR, ZAQAR_CONFIG).
 * Once listening it prints one line `listening on http://HOST:PORT` on stdout, which
 * launchers (and the black-box tests) wait for. SIGINT/SIGTERM close it cleanly.
 */
import { runClusterCommand } from './cluster-admin-cli.js';
import { ConfigError, loadConfig, type NodeConfig } from './config.js';
import { describeConfig } from './config-view.js';
import { createLogger } from './logger.js';
import { startNode } from './main.js';

const usage = `usage: zaqar-ts serve [--listen HOST:PORT] [--data-dir DIR] [--config FILE] [--ws-listen HOST:PORT]
       zaqar-ts cluster status|add ID [--address HOST:PORT]|remove ID [--url URL]   (admin endpoints of a running node)

  --listen HOST:PORT   address to serve HTTP on (env ZAQAR_LISTEN, default 127.0.0.1:8888)
  --data-dir DIR       where the node keeps its LMDB data (env ZAQAR_DATA_DIR, default ./data)
  --config FILE        JSON config file with Zaqar option names (env ZAQAR_CONFIG)
  --ws-listen HOST:PORT  an extra WebSocket-only listener (env ZAQAR_WS_LISTEN); the HTTP port serves WebSocket on / too
  --metrics-listen HOST:PORT  an extra listener serving only GET /metrics (env ZAQAR_METRICS_LISTEN); the API port has /metrics too
  --log-level LEVEL    debug, info, warn, error or silent (env ZAQAR_LOG_LEVEL, default info)

Every config file option may also be set in the environment as ZAQAR_<OPTION> (upper case, "." as "__"),
e.g. ZAQAR_MAX_CLAIM_TTL=600; the environment wins over the file, flags over both.
zaqar-ts config [same flags] prints the effective configuration as JSON (secrets redacted) and exits.
  --node-id ID         this node's id, a positive integer never reused (env ZAQAR_NODE_ID, default 1)
  --peers ID=HOST:PORT,...  the cluster members' gRPC addresses (env ZAQAR_PEERS); none: a cluster of one
  --raft-listen HOST:PORT   where this node's cluster gRPC server listens (env ZAQAR_RAFT_LISTEN; default its own peers entry)
  --join HOST:PORT,...      seed nodes' cluster addresses (env ZAQAR_JOIN): pull the address book from them at start,
                       then wait to be added (\`zaqar-ts cluster add ID --address HOST:PORT\`); needs --raft-listen
  --advertise HOST:PORT     the cluster address other nodes dial (env ZAQAR_ADVERTISE; default the raft-listen
                       address, required with --join when that is a wildcard such as 0.0.0.0)
  --replicas N         replicas per shard (env ZAQAR_REPLICAS; default 3, at most the member count)
  --initial-members ID,...  voters of a new cluster's shards (env ZAQAR_INITIAL_MEMBERS; default every peer);
                       a node outside them waits until \`zaqar-ts cluster add\` adds it
  --shards N           shards per cluster, the same on every node (env ZAQAR_SHARDS; default 16)
`;

const flagNames = new Set(['metrics-listen', 'log-level', 'listen', 'data-dir', 'config', 'ws-listen', 'node-id', 'peers', 'raft-listen', 'join', 'advertise', 'replicas', 'shards', 'initial-members']);

function parseFlags(args: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1];
    if (name === undefined || !flagNames.has(name)) throw new ConfigError(`unknown argument ${arg}`);
    const value = match?.[2] ?? args[++i];
    if (value === undefined) throw new ConfigError(`option --${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (command === 'cluster') return runClusterCommand(rest, process.env);
  if (command === 'config') {
    const config = loadConfig({ flags: parseFlags(rest), env: process.env });
    process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    return 0;
  }
  if (command !== 'serve') {
    process.stderr.write(usage);
    return 2;
  }
  const config = loadConfig({ flags: parseFlags(rest), env: process.env });
  return serve(config);
}

/** Runs the node until SIGINT/SIGTERM, then drains it (shutdown.ts) and exits. */
async function serve(config: NodeConfig): Promise<number> {
  const logger = createLogger({ level: config.logLevel ?? 'info' });
  const node = await startNode(config, undefined, { logger });
  if (config.wsListen !== undefined && node.wsPort !== undefined) {
    process.stdout.write(`websocket listening on ws://${config.wsListen.host}:${node.wsPort}/\n`);
  }
  if (node.metricsPort !== undefined) process.stdout.write(`metrics listening on port ${node.metricsPort}\n`);
  const scheme = config.security?.tls === undefined ? 'http' : 'https';
  process.stdout.write(`listening on ${scheme}://${config.host}:${node.port}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'shutting down');
  // Referenced on purpose: it keeps the process alive through the drain, and ends a
  // drain that hangs before Kubernetes' SIGKILL would.
  const failsafeMs = ((config.drainTimeoutSeconds ?? 30) + 15) * 1000;
  const failsafe = setTimeout(() => {
    logger.error({ failsafeMs }, 'shutdown did not finish in time; exiting');
    process.exit(1);
  }, failsafeMs);
  await node.shutdown();
  clearTimeout(failsafe);
  // Idle keep-alive connections would otherwise hold the event loop open.
  process.exit(0);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`zaqar-ts: ${error.message}\n`);
    else process.stderr.write(`zaqar-ts: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

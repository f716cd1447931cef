#!/usr/bin/env node
/**
 * The `zaqar-ts` command. `zaqar-ts serve [--listen HOST:PORT] [--data-dir DIR]
 * [--config FILE]` starts one node (env: ZAQAR_LISTEN, ZAQAR_DATA_DIR, ZAQAR_CONFIG).
 * Once listening it prints one line `listening on http://HOST:PORT` on stdout, which
 * launchers (and the black-box tests) wait for. SIGINT/SIGTERM close it cleanly.
 */
import { ConfigError, loadConfig } from './config.js';
import { startNode } from './main.js';

const usage = `usage: zaqar-ts serve [--listen HOST:PORT] [--data-dir DIR] [--config FILE] [--ws-listen HOST:PORT]

  --listen HOST:PORT   address to serve HTTP on (env ZAQAR_LISTEN, default 127.0.0.1:8888)
  --data-dir DIR       where the node keeps its LMDB data (env ZAQAR_DATA_DIR, default ./data)
  --config FILE        JSON config file with Zaqar option names (env ZAQAR_CONFIG)
  --ws-listen HOST:PORT  an extra WebSocket-only listener (env ZAQAR_WS_LISTEN); the HTTP port serves WebSocket on / too
`;

const flagNames = new Set(['listen', 'data-dir', 'config', 'ws-listen']);

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
  if (command !== 'serve') {
    process.stderr.write(usage);
    return 2;
  }
  const config = loadConfig({ flags: parseFlags(rest), env: process.env });
  const node = await startNode(config);
  if (config.wsListen !== undefined && node.wsPort !== undefined) {
    process.stdout.write(`websocket listening on ws://${config.wsListen.host}:${node.wsPort}/\n`);
  }
  process.stdout.write(`listening on http://${config.host}:${node.port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.close();
  return 0;
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

/**
 * Starts the compiled `zaqar-ts serve` as a real child process on a free port (port 0,
 * the chosen port is read from its `listening on` line) with a temp data dir, for the
 * black-box suites. `stop` is a clean SIGTERM; `crash` is `kill -9`, after which
 * `restart` brings a new process up on the same data dir. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startDeadlineMs = 30_000;
const stopDeadlineMs = 10_000;

export interface ServerOptions {
  /** Zaqar options for the node's JSON config file. */
  readonly config?: Record<string, unknown>;
}

export class LaunchedServer {
  private child: ChildProcess | undefined;
  private output = '';
  url = '';

  private constructor(readonly dataDir: string, private readonly configPath: string) {}

  static async start(options: ServerOptions = {}): Promise<LaunchedServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'zaqar-ts-test-'));
    const configPath = join(dataDir, 'config.json');
    await writeFile(configPath, JSON.stringify(options.config ?? {}));
    const server = new LaunchedServer(join(dataDir, 'data'), configPath);
    await server.spawn();
    return server;
  }

  /** Everything the process printed so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  private async spawn(): Promise<void> {
    const args = [join(root, 'dist/src/cli.js'), 'serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--config', this.configPath];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${this.output}`)), startDeadlineMs);
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString();
        const match = /listening on (https?:\/\/\S+)/.exec(this.output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
  }

  private async waitExit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      // A clean stop that hangs must not hang the suite: escalate to SIGKILL.
      const timer = setTimeout(() => child.kill('SIGKILL'), stopDeadlineMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
    this.child = undefined;
  }

  /** `kill -9`: no shutdown code runs. */
  async crash(): Promise<void> {
    await this.waitExit('SIGKILL');
  }

  /** Stops the process (SIGTERM) and starts a new one on the same data dir, with `config` when given. */
  async restart(config?: Record<string, unknown>): Promise<void> {
    await this.waitExit('SIGTERM');
    if (config !== undefined) await writeFile(this.configPath, JSON.stringify(config));
    await this.spawn();
  }

  /** Stops the process and removes its temp directory. */
  async stop(): Promise<void> {
    await this.waitExit('SIGTERM');
    await rm(join(this.dataDir, '..'), { recursive: true, force: true });
  }
}

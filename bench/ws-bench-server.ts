/**
 * Starts the compiled server (`dist/`, build it first with `npm run build`) as a child
 * process on a free port with a temp data dir, for the WebSocket benchmarks, and reads
 * its resident memory from /proc. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli.js');

export class BenchServer {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, readonly url: string) {}

  static async start(): Promise<BenchServer> {
    if (!existsSync(cli)) throw new Error('dist/src/cli.js is missing: run `npm run build` first');
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-bench-'));
    const child = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
    });
    return new BenchServer(child, dir, url);
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/`;
  }

  /** Resident set size of the server process, in bytes. */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb === undefined) throw new Error('no VmRSS in /proc status');
    return Number(kb) * 1024;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
    await rm(this.dir, { recursive: true, force: true });
  }
}

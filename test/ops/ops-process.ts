/**
 * A zaqar-ts process for the operations suites: the compiled `dist/src/cli.js` with
 * chosen arguments and environment, its stdout/stderr captured (the JSON log lines
 * parsed), the API URL read from its `listening on` line, and its exit code. Every wait
 * has a deadline. Unlike test/support/server-launcher.ts it lets a test send SIGTERM and
 * see the exit code, and run one-shot commands (`config`, a start that must fail).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliPath = join(repoRoot, 'dist/src/cli.js');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class OpsProcess {
  output = '';
  private readonly exited: Promise<Exit>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static spawn(args: readonly string[], env: Readonly<Record<string, string>> = {}): OpsProcess {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only what the test chooses: a developer's own ZAQAR_* variables must not leak in.
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return new OpsProcess(child);
  }

  /** Starts `serve` and waits for its `listening on` line. */
  static async serve(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<OpsProcess & { url: string }> {
    const process_ = OpsProcess.spawn(['serve', ...args], env);
    const url = await process_.waitFor(/^listening on (http:\/\/\S+)$/m, 30_000);
    return Object.assign(process_, { url });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The JSON log lines printed so far (other lines skipped). */
  logLines(): Record<string, unknown>[] {
    return this.output.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits until the output matches; returns the first capture group (or the match). */
  async waitFor(pattern: RegExp, deadlineMs: number): Promise<string> {
    const startMs = Date.now();
    for (;;) {
      const match = pattern.exec(this.output);
      if (match !== null) return match[1] ?? match[0];
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process exited before printing ${pattern}:\n${this.output}`);
      }
      if (Date.now() - startMs > deadlineMs) throw new Error(`no ${pattern} within ${deadlineMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves with the exit status; kills the process (SIGKILL) if it outlives the deadline. */
  async exit(deadlineMs = 60_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Exit>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve({ code: null, signal: 'SIGKILL' });
      }, deadlineMs);
    });
    const result = await Promise.race([this.exited, deadline]);
    clearTimeout(timer);
    return result;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** For afterAll: kill -9 if still running. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Real notification receivers for the black-box notification suites: a webhook receiver
 * (node:http on 127.0.0.1, port 0) that records every request and answers per path, and
 * an SMTP server (Debian's python3-aiosmtpd as a child process, Maildir handler) whose
 * received mails are read back from its directory. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/cluster-launcher.js';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly text: string;
}

/** Answers a request: status code, after an optional delay in ms (a slow subscriber). */
export type Answer = (request: ReceivedRequest, attempt: number) => { status: number; delayMs?: number };

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly answers = new Map<string, Answer>();

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      void receiver?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  /** How requests to `path` are answered (default 200 at once). */
  answer(path: string, answer: Answer): void {
    this.answers.set(path, answer);
  }

  to(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { path: req.url ?? '', headers: req.headers, text: Buffer.concat(chunks).toString('utf8') };
    this.requests.push(request);
    const { status, delayMs } = this.answers.get(request.path)?.(request, this.to(request.path).length) ?? { status: 200 };
    if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.writeHead(status).end();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface ReceivedMail {
  readonly headers: string;
  readonly body: string;
}

export class SmtpServer {
  private constructor(private readonly child: ChildProcess, readonly port: number, private readonly dir: string) {}

  static async start(): Promise<SmtpServer> {
    const dir = await mkdtemp(join(tmpdir(), 'zaqar-smtp-'));
    const port = await freePort();
    const child = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', join(dir, 'maildir')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const server = new SmtpServer(child, port, dir);
    // A missing python3-aiosmtpd (or any start failure) ends the child: say so at once, with its stderr.
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`the SMTP server (python3 -m aiosmtpd, Debian's python3-aiosmtpd) exited with ${String(code)}: ${stderr.trim()}`)));
    });
    exited.catch(() => undefined);
    await Promise.race([waitFor('the SMTP server to listen', () => isListening(port)), exited]);
    return server;
  }

  /** Mails received so far (Maildir `new/`). */
  async mails(): Promise<ReceivedMail[]> {
    const folder = join(this.dir, 'maildir', 'new');
    const names = await readdir(folder).catch(() => [] as string[]);
    const mails = await Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')));
    return mails.map((text) => {
      const split = text.indexOf('\n\n');
      const headers = text.slice(0, split);
      const raw = text.slice(split + 2);
      const isQuotedPrintable = /^Content-Transfer-Encoding: quoted-printable$/im.test(headers);
      return { headers, body: isQuotedPrintable ? decodeQuotedPrintable(raw) : raw };
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGTERM');
      });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it is truthy, failing after `deadlineMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

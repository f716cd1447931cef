/**
 * A thin fetch wrapper for black-box API tests: default Zaqar headers for one project
 * and client, JSON bodies, and replies with status, headers and the parsed body.
 */
import { randomUUID } from 'node:crypto';

export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or undefined when the body was empty. */
  readonly body: unknown;
  readonly text: string;
}

export interface CallOptions {
  /** A JSON value to send, or a raw string / bytes sent as they are. */
  readonly json?: unknown;
  readonly raw?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

export class ZaqarHttp {
  readonly clientId: string;

  constructor(readonly baseUrl: string, readonly project = `p-${randomUUID()}`, clientId?: string) {
    this.clientId = clientId ?? randomUUID();
  }

  /** The same server seen by another project or client. */
  as(project: string, clientId?: string): ZaqarHttp {
    return new ZaqarHttp(this.baseUrl, project, clientId);
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<HttpReply> {
    const headers: Record<string, string> = { 'Client-ID': this.clientId, 'X-Project-ID': this.project, ...options.headers };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    let parsed: unknown;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get(path: string, options?: CallOptions): Promise<HttpReply> {
    return this.call('GET', path, options);
  }
  put(path: string, options?: CallOptions): Promise<HttpReply> {
    return this.call('PUT', path, options);
  }
  post(path: string, options?: CallOptions): Promise<HttpReply> {
    return this.call('POST', path, options);
  }
  patch(path: string, options?: CallOptions): Promise<HttpReply> {
    return this.call('PATCH', path, options);
  }
  delete(path: string, options?: CallOptions): Promise<HttpReply> {
    return this.call('DELETE', path, options);
  }

  /** Posts messages and returns their ids. */
  async postMessages(queue: string, messages: unknown[]): Promise<string[]> {
    const reply = await this.post(`/v2/queues/${queue}/messages`, { json: { messages } });
    if (reply.status !== 201) throw new Error(`post failed: ${reply.status} ${reply.text}`);
    return (reply.body as { resources: string[] }).resources.map((href) => href.split('/').pop() ?? '');
  }
}

/** Error bodies are `{title, description?}`. */
export function errorOf(reply: HttpReply): { title?: string; description?: string } {
  return (reply.body ?? {}) as { title?: string; description?: string };
}

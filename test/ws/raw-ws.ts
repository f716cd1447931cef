/**
 * A raw WebSocket for the black-box WebSocket suites: sends frames exactly as given
 * (text, binary, or already-encoded bytes) and hands back each received frame decoded
 * by its type (JSON for text, MessagePack for binary). Every wait has a deadline.
 */
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const waitDeadlineMs = 10_000;

export interface Frame {
  readonly isBinary: boolean;
  readonly document: unknown;
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class RawWs {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<Closed>;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push({ isBinary, document: isBinary ? unpackr.unpack(data) : JSON.parse(data.toString('utf8')) });
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.waiter?.();
        resolve({ code, reason: reason.toString() });
      });
    });
    socket.on('error', () => {
      // 'close' follows; tests look at the close code.
    });
  }

  static open(url: string): Promise<RawWs> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new RawWs(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a document as a JSON text frame. */
  sendJson(document: unknown): void {
    this.socket.send(JSON.stringify(document));
  }

  /** Sends a document as a MessagePack binary frame. */
  sendMsgpack(document: unknown): void {
    this.socket.send(packr.pack(document), { binary: true });
  }

  sendText(text: string | Buffer): void {
    this.socket.send(text, { binary: false });
  }

  sendBinary(bytes: Uint8Array): void {
    this.socket.send(bytes, { binary: true });
  }

  /** The next received frame. */
  async next(): Promise<Frame> {
    const deadline = Date.now() + waitDeadlineMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) return frame;
      if (this.socket.readyState !== WebSocket.OPEN) throw new Error('socket closed while waiting for a frame');
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error('no frame within the deadline');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  close(): Promise<Closed> {
    this.socket.close(1000);
    return this.closed;
  }
}

/** A request envelope in either encoding, and its reply. */
export async function exchange(ws: RawWs, document: unknown, encoding: 'json' | 'msgpack'): Promise<Frame> {
  if (encoding === 'json') ws.sendJson(document);
  else ws.sendMsgpack(document);
  return ws.next();
}

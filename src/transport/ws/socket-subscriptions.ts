/**
 * Socket subscriptions (zaqar-websocket.md §8). A `subscription_create` without a
 * subscriber makes an ordinary webhook subscription whose subscriber URL points back at
 * this node — `http://<host>:<port>/ws-notifications/<protoId>` — so the notifier
 * delivers to it like to any webhook (from whichever node leads the queue's shard), and
 * the POST body is pushed verbatim to the socket with that id: a JSON text frame, or the
 * MessagePack encoding of the same document when the socket's last successful socket
 * subscription came in a binary frame. When the socket closes its socket subscriptions
 * are deleted. Bounded: one entry per open socket, `subscriptionsPerSocketMax` each.
 */
import { hostname } from 'node:os';
import { encodeFrame, type JsonObject } from './protocol.js';

export const notificationPath = '/ws-notifications';
const subscriptionsPerSocketMax = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A socket as the registry sees it. */
export interface NotifiableSocket {
  readonly protoId: string;
  /** Sends one pushed frame, respecting the socket's bounds. */
  push(frame: string | Uint8Array, isBinary: boolean): void;
}

export interface SocketSubscription {
  readonly queue: string;
  readonly id: string;
  /** The headers of the creating request (project, Client-ID), reused to delete it. */
  readonly headers: JsonObject;
}

interface Entry {
  readonly socket: NotifiableSocket;
  isBinary: boolean;
  readonly subscriptions: SocketSubscription[];
}

export class SocketSubscriptions {
  private readonly entries = new Map<string, Entry>();

  register(socket: NotifiableSocket): void {
    this.entries.set(socket.protoId, { socket, isBinary: false, subscriptions: [] });
  }

  /** Forgets a closed socket; returns its subscriptions, which the caller deletes. */
  unregister(protoId: string): readonly SocketSubscription[] {
    const entry = this.entries.get(protoId);
    this.entries.delete(protoId);
    return entry?.subscriptions ?? [];
  }

  /** Whether the socket may create another socket subscription. */
  hasRoom(protoId: string): boolean {
    const entry = this.entries.get(protoId);
    return entry !== undefined && entry.subscriptions.length < subscriptionsPerSocketMax;
  }

  /** A socket subscription was created; later notifications use that request's encoding. */
  record(protoId: string, subscription: SocketSubscription, isBinary: boolean): void {
    const entry = this.entries.get(protoId);
    if (entry === undefined) return;
    entry.subscriptions.push(subscription);
    entry.isBinary = isBinary;
  }

  /** Pushes a notification POST body to its socket; a closed socket's notifications are dropped. */
  deliver(protoId: string, body: Uint8Array): void {
    const entry = this.entries.get(protoId);
    if (entry === undefined) return;
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return;
    }
    if (!entry.isBinary) {
      entry.socket.push(text, false);
      return;
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return;
    }
    entry.socket.push(encodeFrame(document, true), true);
  }
}

/** The host others reach this node by: a wildcard bind address is replaced by the host name. */
export function advertisedHost(bindHost: string): string {
  return bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '' ? hostname() : bindHost;
}

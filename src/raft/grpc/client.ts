/**
 * PeerDialer: keeps one outgoing gRPC stream open to one peer, redialling with
 * exponential back-off and jitter whenever it ends.
 *
 * A fresh grpc-js Client (channel) is made for each attempt so that our back-off alone
 * decides when to retry (a long-lived channel would add its own reconnect back-off, up
 * to two minutes by default). The stream is handed to the PeerLink only once the peer's
 * hello arrived, so queued messages are never poured into a connection that is not up;
 * the back-off resets at the same moment.
 */
import * as grpc from '@grpc/grpc-js';
import type { Delays } from '../../common/timers.js';
import type { Random } from '../../common/random.js';
import type { NodeId } from '../types.js';
import { deserializeFrame, helloFrame, parseHello, raftStreamPath, serializeFrame, type Frame } from './frame-codec.js';
import type { PeerLink } from './peer-link.js';

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential up to `maxMs`, with
 * "equal jitter" (half fixed, half random) so that peers restarting together spread out
 * but never retry in a tight loop.
 */
export function reconnectDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  const capMs = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return capMs / 2 + random.next() * (capMs / 2);
}

export interface PeerDialerOptions {
  readonly self: NodeId;
  readonly peer: NodeId;
  /** host:port */
  readonly address: string;
  readonly link: PeerLink;
  /** Receives every frame after the hello. */
  readonly onFrame: (values: Frame) => void;
  readonly random: Random;
  readonly delays: Delays;
  readonly backoff: BackoffPolicy;
  readonly channelOptions: grpc.ChannelOptions;
  /** Mutual TLS (peer-tls.ts); plaintext when absent. */
  readonly credentials?: grpc.ChannelCredentials;
}

export class PeerDialer {
  private attempt = 0;
  private isClosed = false;
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<Frame, Frame> | undefined;
  private cancelRedial: (() => void) | undefined;
  /** Completed dials (hello received); tests and metrics read it. */
  connections = 0;

  constructor(private readonly options: PeerDialerOptions) {}

  start(): void {
    this.dial();
  }

  close(): void {
    this.isClosed = true;
    this.cancelRedial?.();
    this.call?.cancel();
    this.client?.close();
  }

  private dial(): void {
    if (this.isClosed) return;
    const { self, peer, address, link } = this.options;
    const client = new grpc.Client(address, this.options.credentials ?? grpc.credentials.createInsecure(), this.options.channelOptions);
    const call = client.makeBidiStreamRequest(raftStreamPath, serializeFrame, deserializeFrame);
    this.client = client;
    this.call = call;
    let isHelloSeen = false;
    call.on('data', (values: Frame) => {
      if (isHelloSeen) {
        this.options.onFrame(values);
        return;
      }
      const hello = parseHello(values);
      if (hello === undefined || hello.from !== peer || hello.to !== self) {
        call.cancel(); // Not the peer we meant to reach (wrong address or stale config).
        return;
      }
      isHelloSeen = true;
      this.attempt = 0;
      this.connections += 1;
      link.attach(call);
    });
    // Failures arrive as both 'error' and 'status'; 'status' comes exactly once per call.
    call.on('error', () => {});
    call.on('status', () => {
      link.detach(call);
      client.close();
      this.redialLater();
    });
    call.write(helloFrame(self, peer));
  }

  private redialLater(): void {
    if (this.isClosed) return;
    const delayMs = reconnectDelayMs(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    this.cancelRedial = this.options.delays.after(delayMs, () => this.dial());
  }
}

/**
 * GrpcRaftTransport: RaftTransport over gRPC, with one long-lived bidirectional stream
 * per pair of nodes carrying the messages of all groups in both directions.
 *
 * Topology: of each pair, the node with the smaller id dials (PeerDialer, with back-off)
 * and the other accepts (RaftGrpcServer); after both hellos the stream is attached to
 * each side's PeerLink for the other, which batches and bounds what is sent. Delivery is
 * best effort: messages queued for a peer that is down wait in its bounded queue (oldest
 * dropped first) and Raft retransmits whatever is lost.
 *
 * Received messages are checked for shape and for `from`/`to` matching the stream's
 * hello before they reach the handler; anything else is counted and dropped.
 */
import type * as grpc from '@grpc/grpc-js';
import { assert } from '../../common/assert.js';
import type { Delays } from '../../common/timers.js';
import type { Random } from '../../common/random.js';
import type { NodeId, RaftMessage, RaftTransport } from '../types.js';
import { PeerDialer, type BackoffPolicy } from './client.js';
import { encodeMessage, helloFrame, isRaftMessage, parseHello, type Frame } from './frame-codec.js';
import { PeerLink, type PeerLinkCounters, type PeerLinkLimits } from './peer-link.js';
import { RaftGrpcServer, type ExtraGrpcService, type RaftServerStream } from './server.js';
import { channelCredentials, serverCredentials, type PeerTls } from './peer-tls.js';

export interface GrpcRaftTransportOptions {
  readonly nodeId: NodeId;
  /** host:port to listen on; port 0 picks a free port (see `port`). */
  readonly listenAddress: string;
  readonly random: Random;
  readonly delays: Delays;
  readonly limits?: Partial<PeerLinkLimits>;
  readonly backoff?: BackoffPolicy;
  /** More gRPC services served on the same port. */
  readonly extraServices?: readonly ExtraGrpcService[];
  /** Mutual TLS with the cluster CA on both the server and the dialers; plaintext when absent. */
  readonly tls?: PeerTls;
}

export interface PeerStats extends PeerLinkCounters {
  readonly isConnected: boolean;
  readonly queuedMessages: number;
  /** Streams established by dialling (0 on the accepting side). */
  readonly connections: number;
}

const defaultLimits: PeerLinkLimits = {
  queueMessagesMax: 4096,
  queueBytesMax: 64 * 1024 * 1024,
  frameBytesMax: 4 * 1024 * 1024,
};
const defaultBackoff: BackoffPolicy = { baseMs: 50, maxMs: 2000 };
/** Room for a full frame plus a snapshot chunk; gRPC's 4 MiB default is too tight. */
const messageBytesMax = 64 * 1024 * 1024;
const keepalive = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 };

export class GrpcRaftTransport implements RaftTransport {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly dialers = new Map<NodeId, PeerDialer>();
  private handler: (message: RaftMessage) => void = () => {};
  private server: RaftGrpcServer | undefined;
  private isClosed = false;
  private readonly limits: PeerLinkLimits;
  /** Messages dropped on receipt (malformed, misaddressed) or on send (unknown peer). */
  messagesRejected = 0;
  framesReceived = 0;

  private constructor(private readonly options: GrpcRaftTransportOptions) {
    this.limits = { ...defaultLimits, ...options.limits };
  }

  /** Starts the server; call connect() once the peers' addresses are known. */
  static async listen(options: GrpcRaftTransportOptions): Promise<GrpcRaftTransport> {
    const transport = new GrpcRaftTransport(options);
    transport.server = await RaftGrpcServer.listen(options.listenAddress, {
      onStream: (stream) => transport.accept(stream),
      serverOptions: {
        'grpc.max_receive_message_length': messageBytesMax,
        'grpc.max_send_message_length': messageBytesMax,
        ...keepalive,
      },
      ...(options.extraServices === undefined ? {} : { extraServices: options.extraServices }),
      credentials: serverCredentials(options.tls),
    });
    return transport;
  }

  get port(): number {
    assert(this.server !== undefined, 'transport is listening');
    return this.server.port;
  }

  /**
   * Adds peers (NodeId → host:port; ourselves and known peers are skipped, node ids and
   * their addresses being stable) and dials those with a larger id than ours.
   */
  connect(peers: ReadonlyMap<NodeId, string>): void {
    const { nodeId } = this.options;
    assert(!this.isClosed, 'connect() after close()');
    for (const [peer, address] of peers) {
      if (peer === nodeId || this.links.has(peer)) continue;
      const link = new PeerLink(this.limits);
      this.links.set(peer, link);
      if (peer < nodeId) continue;
      const dialer = new PeerDialer({
        self: nodeId,
        peer,
        address,
        link,
        onFrame: (frame) => this.deliver(peer, frame),
        random: this.options.random,
        delays: this.options.delays,
        backoff: this.options.backoff ?? defaultBackoff,
        channelOptions: channelOptions(),
        credentials: channelCredentials(this.options.tls),
      });
      this.dialers.set(peer, dialer);
      dialer.start();
    }
  }

  /** Forgets a peer removed from every group: its stream closes and its queue is dropped. */
  removePeer(peer: NodeId): void {
    this.dialers.get(peer)?.close();
    this.dialers.delete(peer);
    this.links.get(peer)?.close();
    this.links.delete(peer);
  }

  send(messages: readonly RaftMessage[]): void {
    if (this.isClosed) return;
    for (const message of messages) {
      const link = this.links.get(message.to);
      if (link === undefined) {
        this.messagesRejected += 1;
        continue;
      }
      link.enqueue(encodeMessage(message));
    }
  }

  onMessage(handler: (message: RaftMessage) => void): void {
    this.handler = handler;
  }

  peerStats(peer: NodeId): PeerStats | undefined {
    const link = this.links.get(peer);
    if (link === undefined) return undefined;
    return {
      ...link.counters,
      isConnected: link.isConnected,
      queuedMessages: link.queuedMessages,
      connections: this.dialers.get(peer)?.connections ?? 0,
    };
  }

  async close(): Promise<void> {
    this.isClosed = true;
    for (const dialer of this.dialers.values()) dialer.close();
    for (const link of this.links.values()) link.close();
    this.server?.close();
  }

  private accept(stream: RaftServerStream): void {
    let peer: NodeId | undefined;
    const forget = (): void => {
      if (peer !== undefined) this.links.get(peer)?.detach(stream);
    };
    stream.on('data', (frame: Frame) => {
      if (peer !== undefined) {
        this.deliver(peer, frame);
        return;
      }
      const hello = parseHello(frame);
      const link = hello === undefined ? undefined : this.links.get(hello.from);
      if (hello === undefined || link === undefined || hello.to !== this.options.nodeId || hello.from > hello.to) {
        stream.end(); // A node we do not know, or one that should be accepting from us.
        return;
      }
      peer = hello.from;
      stream.write(helloFrame(this.options.nodeId, peer));
      link.attach(stream);
    });
    stream.on('error', forget);
    stream.on('cancelled', forget);
    stream.on('close', forget);
    stream.on('end', () => {
      forget();
      stream.end();
    });
  }

  private deliver(peer: NodeId, frame: Frame): void {
    this.framesReceived += 1;
    for (const value of frame) {
      if (!isRaftMessage(value) || value.from !== peer || value.to !== this.options.nodeId) {
        this.messagesRejected += 1;
        continue;
      }
      this.handler(value);
    }
  }
}

function channelOptions(): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': messageBytesMax,
    'grpc.max_send_message_length': messageBytesMax,
    ...keepalive,
  };
}

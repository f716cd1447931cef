/**
 * The cluster-port fuzzer, in process: a GrpcRaftTransport with the forwarding
 * service (its handler answers `not_leader`, as a node without the shard would) and
 * the address book exchange takes random bytes on raw TCP, Raft streams carrying
 * garbage before or after a valid hello (including hellos naming another node or a
 * huge node id), msgpack values of the wrong shape, and unary forward and exchange
 * calls with random bodies. Nothing may throw out of the transport, no malformed value
 * may reach the Raft handler or the exchange handler, and afterwards a genuine peer
 * still gets its messages through.
 */
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Packr } from 'msgpackr';
import { addressBookServiceDefinition, addressBookServiceImplementation, isAddressExchange } from '../../src/cluster/grpc/address-book-service.js';
import { forwardServiceDefinition, forwardServiceImplementation } from '../../src/cluster/grpc/forward-service.js';
import { SeededRandom } from '../../src/common/random.js';
import { SystemDelays } from '../../src/common/timers.js';
import { helloFrame, raftStreamPath } from '../../src/raft/grpc/frame-codec.js';
import { GrpcRaftTransport } from '../../src/raft/grpc/grpc-raft-transport.js';
import type { NodeId, RaftMessage, ShardId, Term } from '../../src/raft/types.js';
import { fuzzJson, type FuzzRandom } from './fuzz-gen.js';
import type { FuzzOutcome } from './fuzz-http.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
const identity = (bytes: Buffer): Buffer => bytes;

export class GrpcFuzzTarget {
  readonly received: RaftMessage[] = [];
  /** Exchange requests that reached the handler although malformed (must stay 0). */
  malformedExchanges = 0;

  private constructor(readonly transport: GrpcRaftTransport) {}

  static async start(): Promise<GrpcFuzzTarget> {
    let target: GrpcFuzzTarget | undefined;
    const transport = await GrpcRaftTransport.listen({
      nodeId: 2 as NodeId, listenAddress: '127.0.0.1:0', random: new SeededRandom(2), delays: new SystemDelays(),
      backoff: { baseMs: 20, maxMs: 200 },
      extraServices: [
        { definition: forwardServiceDefinition,
          implementation: forwardServiceImplementation(() => Promise.resolve({ kind: 'not_leader', leaderHint: undefined })) },
        { definition: addressBookServiceDefinition,
          implementation: addressBookServiceImplementation(async (request) => {
            if (!isAddressExchange(request) && target !== undefined) target.malformedExchanges += 1;
            return { from: 2, entries: [] };
          }) },
      ],
    });
    transport.connect(new Map([[1 as NodeId, '127.0.0.1:9'], [3 as NodeId, '127.0.0.1:9']]));
    target = new GrpcFuzzTarget(transport);
    transport.onMessage((message) => target.received.push(message));
    return target;
  }

  get address(): string {
    return `127.0.0.1:${this.transport.port}`;
  }

  async once(rng: FuzzRandom): Promise<FuzzOutcome> {
    const kind = rng.int(5);
    if (kind === 0) return this.rawTcp(rng);
    if (kind === 1) return this.unary(rng, '/zaqar.cluster.Forward/Propose');
    if (kind === 2) return this.unary(rng, '/zaqar.cluster.AddressBook/Exchange');
    return this.stream(rng);
  }

  private rawTcp(rng: FuzzRandom): Promise<FuzzOutcome> {
    const bytes = rng.chance(0.5) ? rng.bytes(1 + rng.int(200)) : Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), rng.bytes(rng.int(100))]);
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.transport.port }, () => socket.end(bytes));
      const done = (): void => resolve({ ok: true, what: `tcp ${Buffer.from(bytes).toString('hex').slice(0, 80)}` });
      socket.on('close', done);
      socket.on('error', () => socket.destroy());
      socket.setTimeout(5_000, () => socket.destroy());
    });
  }

  private unary(rng: FuzzRandom, path: string): Promise<FuzzOutcome> {
    const body = rng.chance(0.5) ? Buffer.from(rng.bytes(rng.int(100))) : packr.pack(fuzzJson(rng));
    const client = new grpc.Client(this.address, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + 5_000 }, (error) => {
        client.close();
        const isClean = (error === null || error.code !== grpc.status.UNAVAILABLE || error.details.includes('Deadline')) && this.malformedExchanges === 0;
        resolve({ ok: isClean, what: `${path} ${body.toString('hex').slice(0, 80)}: ${error?.code ?? 'ok'} ${error?.details ?? ''}` });
      });
    });
  }

  private async stream(rng: FuzzRandom): Promise<FuzzOutcome> {
    const client = new grpc.Client(this.address, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest(raftStreamPath, identity, identity);
    const frames: Buffer[] = [];
    if (rng.chance(0.6)) {
      const from = rng.pick([1, 3, 2, 99, 2 ** 40, -1]);
      frames.push(Buffer.concat(helloFrame(from as NodeId, rng.pick([2, 1, 7]) as NodeId) as Buffer[]));
    }
    for (let i = 1 + rng.int(4); i > 0; i--) {
      frames.push(rng.chance(0.5) ? Buffer.from(rng.bytes(1 + rng.int(80))) : packr.pack(fuzzJson(rng)));
    }
    const what = `stream ${frames.map((f) => f.toString('hex').slice(0, 40)).join(' | ')}`;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        call.cancel();
        client.close();
        resolve({ ok: true, what });
      };
      const timer = setTimeout(finish, 300);
      call.on('data', () => {});
      call.on('error', () => {});
      call.on('status', finish);
      for (const frame of frames) call.write(frame);
    });
  }

  /** A genuine peer (node 1) sends one message; resolves when it arrived. */
  async checkGenuinePeer(term: number): Promise<void> {
    const peer = await GrpcRaftTransport.listen({
      nodeId: 1 as NodeId, listenAddress: '127.0.0.1:0', random: new SeededRandom(1), delays: new SystemDelays(),
      backoff: { baseMs: 20, maxMs: 200 },
    });
    try {
      peer.connect(new Map([[2 as NodeId, this.address]]));
      const message: RaftMessage = { shardId: 0 as ShardId, from: 1 as NodeId, to: 2 as NodeId, term: term as Term, type: 1, seq: 1, entries: [] };
      const deadline = Date.now() + 20_000;
      while (!this.received.some((m) => m.term === term)) {
        if (Date.now() > deadline) throw new Error('the genuine peer\'s message did not arrive after the fuzz');
        peer.send([message]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await peer.close();
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

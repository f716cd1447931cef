/**
 * RaftGrpcServer: the listening side of the Raft streams. Hosts the one-method service
 * (frame-codec.ts) and hands every accepted stream to the transport, which decides after
 * the hello whether to keep it.
 *
 * Shutdown is forced: the streams are long-lived by design, so a graceful shutdown would
 * wait for peers that never hang up.
 */
import * as grpc from '@grpc/grpc-js';
import { raftServiceDefinition, type Frame } from './frame-codec.js';

export type RaftServerStream = grpc.ServerDuplexStream<Frame, Frame>;

/** Another service sharing the Raft port (the cluster's request forwarding), so one address per node suffices. */
export interface ExtraGrpcService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export class RaftGrpcServer {
  private constructor(
    private readonly server: grpc.Server,
    /** The port actually bound (useful when asked for port 0). */
    readonly port: number,
  ) {}

  static listen(
    address: string,
    options: {
      onStream: (stream: RaftServerStream) => void;
      serverOptions: grpc.ServerOptions;
      extraServices?: readonly ExtraGrpcService[];
      /** Mutual TLS (peer-tls.ts); plaintext when absent. */
      credentials?: grpc.ServerCredentials;
    },
  ): Promise<RaftGrpcServer> {
    const server = new grpc.Server(options.serverOptions);
    server.addService(raftServiceDefinition, { stream: options.onStream });
    for (const extra of options.extraServices ?? []) server.addService(extra.definition, extra.implementation);
    return new Promise((resolve, reject) => {
      server.bindAsync(address, options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error !== null) {
          server.forceShutdown();
          reject(new Error(`raft gRPC server cannot listen on ${address}`, { cause: error }));
          return;
        }
        resolve(new RaftGrpcServer(server, port));
      });
    });
  }

  close(): void {
    this.server.forceShutdown();
  }
}

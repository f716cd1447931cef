/**
 * The plumbing the cluster's unary gRPC services share (request forwarding and the
 * address book exchange): msgpack bodies without codegen (every value crossing is a
 * plain msgpack-safe record), a server handler that refuses a malformed request before
 * the service sees it, and one client per peer channel with bounded message sizes and
 * quick reconnects.
 *
 * Invariant: a service handler only ever receives a request its guard accepted; an error
 * it throws becomes INTERNAL with the message (never a stack), so a peer cannot crash it.
 */
import * as grpc from '@grpc/grpc-js';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false });
/** The body encoding of every cluster gRPC method (unary calls and the forwarding stream). */
export const encode = (value: unknown): Buffer => packr.pack(value);
export const decode = (bytes: Buffer): unknown => packr.unpack(bytes);

/** A unary method at `path` whose request and reply are msgpack-encoded. */
export function msgpackUnaryMethod<Reply>(path: string): grpc.MethodDefinition<unknown, Reply> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: encode,
    requestDeserialize: decode,
    responseSerialize: encode,
    responseDeserialize: (bytes) => decode(bytes) as Reply,
  };
}

/** Serves one unary method: `isRequest` guards the decoded body (`what` names it in the refusal). */
export function serveUnary<Request, Reply>(
  guard: { readonly isRequest: (value: unknown) => value is Request; readonly what: string },
  handler: (request: Request) => Promise<Reply>,
): grpc.handleUnaryCall<unknown, Reply> {
  return (call, callback) => {
    const request = call.request;
    if (!guard.isRequest(request)) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed ${guard.what}` });
      return;
    }
    handler(request).then(
      (reply) => callback(null, reply),
      (error: unknown) => callback({ code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) }),
    );
  };
}

/** A client channel to a peer's cluster port. */
export function unaryClient(address: string, options: { readonly credentials: grpc.ChannelCredentials; readonly messageBytesMax: number }): grpc.Client {
  return new grpc.Client(address, options.credentials, {
    'grpc.max_receive_message_length': options.messageBytesMax,
    'grpc.max_send_message_length': options.messageBytesMax,
    // Reconnect quickly after a peer restarts: failover latency depends on it.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
}

/** One call of the method at `path`; settles with the gRPC error or the decoded reply (unchecked). */
export function callUnary(client: grpc.Client, path: string, request: unknown, options: { readonly deadlineAtMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, encode, decode, request, new grpc.Metadata(), { deadline: options.deadlineAtMs }, (error, reply) => {
      if (error === null) resolve(reply);
      else reject(error);
    });
  });
}

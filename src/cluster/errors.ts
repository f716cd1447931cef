/**
 * The cluster layer's expected failures, thrown to the api, which maps them by `name`
 * (src/api/broker-call.ts): a shard that cannot serve right now (503 + Retry-After) and
 * a shard whose bounded proposal queue is full (503).
 */

abstract class ShardError extends Error {
  readonly shardId: number;
  constructor(shardId: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.shardId = shardId;
  }
}

export class ShardUnavailableError extends ShardError {}

export class OverloadedError extends ShardError {}

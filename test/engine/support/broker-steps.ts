/**
 * Small helpers for broker tests: posting bodies, listing everything with the usual
 * flags, and reading ids.
 */
import type { ListMessagesOptions } from '../../../src/api/broker.js';
import type { MessageRecord, QueueRef } from '../../../src/cluster/records.js';
import type { ShardedBroker } from '../../../src/cluster/sharded-broker.js';
import { decodeBody } from '../../../src/cluster/shard/body-codec.js';

export const producer = '3a1f5c2e-0b7d-4e8f-9a6b-1c2d3e4f5a6b';
export const consumer = 'c0ffee00-0000-4000-8000-000000000001';

export async function post(broker: ShardedBroker, ref: QueueRef, bodies: readonly unknown[], options: { ttlSeconds?: number; delaySeconds?: number; clientId?: string } = {}): Promise<string[]> {
  const messages = bodies.map((body) => ({ body, ttlSeconds: options.ttlSeconds ?? 3600, delaySeconds: options.delaySeconds ?? 0 }));
  const { ids } = await broker.postMessages(ref, { clientId: options.clientId ?? producer, messages });
  return ids;
}

export async function list(broker: ShardedBroker, ref: QueueRef, options: Partial<ListMessagesOptions> = {}): Promise<MessageRecord[]> {
  return broker.listMessages(ref, {
    clientId: consumer,
    limit: 20,
    echo: false,
    includeClaimed: false,
    includeDelayed: true,
    ...options,
  });
}

export function ids(messages: readonly { id: string }[]): string[] {
  return messages.map((m) => m.id);
}

/** A message's body as a value: records read on the shard's node hold its stored bytes, forwarded ones the decoded body. */
export function bodyOf(message: { readonly body: unknown }): unknown {
  return message.body instanceof Uint8Array ? decodeBody(message.body) : message.body;
}

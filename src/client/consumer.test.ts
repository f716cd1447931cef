/**
 * Consumer round logic against an in-memory ZaqarApi stand-in (the real-server loop is
 * covered by test/client/client-ws.test.ts): a claim held by a slow handler is renewed
 * every half ttl until the handler finishes, handled messages are deleted with the
 * claim id, and a failed handler leaves its message and releases the claim. Delays are
 * driven by hand.
 */
import { describe, expect, test } from 'vitest';
import type { Claim, ZaqarApi } from './client-types.js';
import { Consumer } from './consumer.js';
import { ManualDelays } from './manual-delays.js';

interface Calls {
  renewed: number;
  deleted: Array<[string, string | undefined]>;
  released: string[];
}

function fakeClient(claims: Array<Claim | undefined>): { client: ZaqarApi; calls: Calls } {
  const calls: Calls = { renewed: 0, deleted: [], released: [] };
  const client = {
    claimMessages: async () => claims.shift(),
    renewClaim: async () => {
      calls.renewed += 1;
    },
    deleteMessage: async (_queue: string, id: string, options?: { claimId?: string }) => {
      calls.deleted.push([id, options?.claimId]);
    },
    releaseClaim: async (_queue: string, claimId: string) => {
      calls.released.push(claimId);
    },
  } as unknown as ZaqarApi;
  return { client, calls };
}

const message = (id: string, body: unknown) => ({ id, ttl: 60, age: 0, body: body as never, claimId: 'c1' });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Consumer', () => {
  test('Consumer renews a claim while a handler is still running', async () => {
    const delays = new ManualDelays();
    let finish = (): void => {};
    const { client, calls } = fakeClient([{ id: 'c1', messages: [message('m1', 1)] }]);
    const consumer = new Consumer(client, {
      queue: 'q', claimTtlSeconds: 60,
      handler: () => new Promise<void>((resolve) => { finish = resolve; }),
    }, delays);
    consumer.start();
    await settle();
    delays.fireAll();
    await settle();
    delays.fireAll();
    await settle();
    expect(calls.renewed).toBe(2);
    finish();
    await settle();
    expect(calls.deleted).toEqual([['m1', 'c1']]);
    const stopped = consumer.stop();
    delays.fireAll();
    await stopped;
    expect(consumer.processed).toBe(1);
  });

  test('Consumer leaves a failed message and releases the claim', async () => {
    const delays = new ManualDelays();
    const errors: unknown[] = [];
    const { client, calls } = fakeClient([{ id: 'c1', messages: [message('m1', 'ok'), message('m2', 'bad')] }]);
    const consumer = new Consumer(client, {
      queue: 'q',
      handler: (m) => {
        if (m.body === 'bad') throw new Error('bad');
      },
      onError: (error) => errors.push(error),
    }, delays);
    consumer.start();
    await settle();
    await settle();
    const stopped = consumer.stop();
    delays.fireAll();
    await stopped;
    expect(calls.deleted).toEqual([['m1', 'c1']]);
    expect(calls.released).toEqual(['c1']);
    expect(errors).toHaveLength(1);
  });
});

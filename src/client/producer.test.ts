/**
 * Producer batching against an in-memory ZaqarApi stand-in that records posts (the
 * real-server behaviour is covered by test/client/): full batches go out at once, a
 * partial batch waits for the linger timer, in-flight posts are bounded, and the buffer
 * bound rejects instead of growing. Delays are driven by hand, so nothing sleeps.
 */
import { describe, expect, test } from 'vitest';
import type { NewMessage, ZaqarApi } from './client-types.js';
import { ManualDelays } from './manual-delays.js';
import { Producer } from './producer.js';
import { ZaqarLimitError } from './zaqar-error.js';

function recordingClient(): { client: ZaqarApi; posts: NewMessage[][]; answer: () => void } {
  const posts: NewMessage[][] = [];
  const waiting: (() => void)[] = [];
  let next = 0;
  const client = {
    postMessages(_queue: string, messages: readonly NewMessage[]): Promise<readonly string[]> {
      posts.push([...messages]);
      return new Promise((resolve) => waiting.push(() => resolve(messages.map(() => `id${next++}`))));
    },
  } as unknown as ZaqarApi;
  return { client, posts, answer: () => { for (const w of waiting.splice(0)) w(); } };
}

const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Producer', () => {
  test('Producer posts a full batch at once and a partial one after the linger', async () => {
    const delays = new ManualDelays();
    const { client, posts, answer } = recordingClient();
    const producer = new Producer(client, { queue: 'q', batchMessagesMax: 3, inFlightBatchesMax: 4 }, delays);
    const sent = [1, 2, 3, 4].map((n) => producer.send({ body: n }));
    expect(posts.map((p) => p.length)).toEqual([3]);
    delays.fireAll();
    expect(posts.map((p) => p.length)).toEqual([3, 1]);
    answer();
    expect(await Promise.all(sent)).toEqual(['id0', 'id1', 'id2', 'id3']);
  });

  test('Producer keeps at most inFlightBatchesMax posts unanswered', async () => {
    const delays = new ManualDelays();
    const { client, posts, answer } = recordingClient();
    const producer = new Producer(client, { queue: 'q', batchMessagesMax: 1, inFlightBatchesMax: 2 }, delays);
    const sent = [1, 2, 3, 4, 5].map((n) => producer.send({ body: n }));
    expect(posts).toHaveLength(2);
    answer();
    await flushMicrotasks();
    expect(posts).toHaveLength(4);
    answer();
    await flushMicrotasks();
    answer();
    await flushMicrotasks();
    expect(await Promise.all(sent)).toHaveLength(5);
  });

  test('Producer rejects sends beyond its buffer bound', async () => {
    const { client } = recordingClient();
    const producer = new Producer(client, { queue: 'q', batchMessagesMax: 10, bufferedMessagesMax: 2 }, new ManualDelays());
    void producer.send({ body: 1 }).catch(() => {});
    void producer.send({ body: 2 }).catch(() => {});
    await expect(producer.send({ body: 3 })).rejects.toBeInstanceOf(ZaqarLimitError);
  });

  test('Producer.flush resolves once every batch is answered', async () => {
    const delays = new ManualDelays();
    const { client, posts, answer } = recordingClient();
    const producer = new Producer(client, { queue: 'q', batchMessagesMax: 10 }, delays);
    const sent = producer.send({ body: 'a' });
    const flushed = producer.flush();
    expect(posts).toHaveLength(1);
    answer();
    await flushed;
    expect(await sent).toBe('id0');
  });
});

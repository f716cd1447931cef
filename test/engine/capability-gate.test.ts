/**
 * The broker's side of the rolling-upgrade gate (cluster/peer-capabilities.ts), on one
 * node over real LMDB: while some peer does not advertise that it checks a post's
 * expectedMetadata, postMessagesExpecting proposes nothing and sends the caller to the
 * barrier-read path; once every peer does, it posts. A message listing answers the same
 * whether it is one `messagePage` read or, before every peer answers that query, the
 * metadata read and then the listing. Consumers' commands issued together go as one
 * batch entry only once every peer applies batches, and are answered alike either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { SystemClock } from '../../src/common/clock.js';
import { ManualTimers } from '../../src/common/timers.js';
import { ShardedBroker } from '../../src/cluster/sharded-broker.js';
import { bodyOf } from './support/broker-steps.js';

const ref = { project: 'p', queue: 'q' };
const listing = { clientId: 'c', limit: 10, echo: true, includeClaimed: false };
const opened: Array<{ broker: ShardedBroker; dataDir: string }> = [];

async function openBroker(everyPeerHas: (capability: string) => boolean): Promise<ShardedBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'capability-gate-'));
  const broker = await ShardedBroker.open({ dataDir, shardCount: 2, clock: new SystemClock(), timers: new ManualTimers(), everyPeerHas });
  opened.push({ broker, dataDir });
  return broker;
}

afterEach(async () => {
  for (const { broker, dataDir } of opened.splice(0)) {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('capability gate', () => {
  test('a post carries expectedMetadata only once every peer checks it', async () => {
    const capable = new Set<string>();
    const broker = await openBroker((capability) => capable.has(capability));
    const messages = [{ body: 1, ttlSeconds: 300, delaySeconds: 0 }];
    const expectedMetadata = { _default_message_ttl: null };
    expect(await broker.postMessagesExpecting(ref, { clientId: 'c', messages, expectedMetadata })).toBe('metadata_changed');
    expect(await broker.getQueueMetadata(ref)).toBeNull();
    capable.add('post-expected-metadata');
    const posted = await broker.postMessagesExpecting(ref, { clientId: 'c', messages, expectedMetadata });
    expect(posted).not.toBe('metadata_changed');
    expect((await broker.listMessages(ref, { ...listing, includeDelayed: true })).length).toBe(1);
  });

  test('a listing applies the delay-queue rule alike with and without the one-read query', async () => {
    for (const hasMessagePage of [true, false]) {
      const broker = await openBroker((capability) => hasMessagePage && capability === 'message-page-query');
      const delayed = { body: 'later', ttlSeconds: 300, delaySeconds: 60 };
      const now = { body: 'now', ttlSeconds: 300, delaySeconds: 0 };
      await broker.createQueue(ref, { _default_message_delay: 30 });
      await broker.postMessages(ref, { clientId: 'c', messages: [delayed, now] });
      const plain = { project: 'p', queue: 'plain' };
      await broker.postMessages(plain, { clientId: 'c', messages: [delayed, now] });
      const bodies = async (queue: typeof ref, includeDelayed: boolean): Promise<{ bodies: unknown[]; includesDelayed: boolean }> => {
        const page = await broker.listMessagePage(queue, { ...listing, includeDelayed });
        return { bodies: page.messages.map((m) => bodyOf(m)), includesDelayed: page.includesDelayed };
      };
      expect(await bodies(ref, false)).toEqual({ bodies: ['now'], includesDelayed: false });
      expect(await bodies(ref, true)).toEqual({ bodies: ['later', 'now'], includesDelayed: true });
      expect(await bodies(plain, false)).toEqual({ bodies: ['later', 'now'], includesDelayed: true });
      expect(await bodies({ project: 'p', queue: 'missing' }, false)).toEqual({ bodies: [], includesDelayed: true });
    }
  });

  test('message ids are derived from seqs only once every peer has entries and derived ids, and are found either way', async () => {
    for (const capable of [[], ['post-derived-ids'], ['post-message-entries'], ['post-message-entries', 'post-derived-ids'],
      ['post-packed-entries'], ['post-message-entries', 'post-packed-entries'], ['post-message-entries', 'post-derived-ids', 'post-packed-entries']]) {
      const broker = await openBroker((capability) => capable.includes(capability));
      const messages = [{ body: 'a', ttlSeconds: 300, delaySeconds: 0 }, { body: 'b', ttlSeconds: 300, delaySeconds: 0 }];
      const { ids } = await broker.postMessages(ref, { clientId: 'c', messages });
      const derived = capable.includes('post-message-entries') && capable.includes('post-derived-ids');
      for (const [i, id] of ids.entries()) {
        expect(id).toMatch(/^[0-9a-f]{24}$/);
        expect(id.startsWith((i + 1).toString(16).padStart(12, '0')), `${capable.join('+')}: ${id}`).toBe(derived);
      }
      expect((await broker.getMessages(ref, ids)).map((m) => bodyOf(m))).toEqual(['a', 'b']);
    }
  });

  test("consumers' commands of one turn go as one entry only once every peer applies batches, each answered as alone", async () => {
    for (const batches of [false, true]) {
      const broker = await openBroker((capability) => batches && capability === 'command-batches');
      const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
      await broker.postMessages(ref, { clientId: 'c', messages: bodies.map((body) => ({ body, ttlSeconds: 300, delaySeconds: 0 })) });
      const proposals = (): number => broker.logStats.proposals;
      let before = proposals();
      const claims = await Promise.all([0, 1, 2, 3].map(() => broker.createClaim(ref, { limit: 3, ttlSeconds: 60, graceSeconds: 60 })));
      expect(proposals() - before, `batches ${batches}`).toBe(batches ? 1 : 4);
      const held = claims.map((claim) => claim?.messages.map((m) => bodyOf(m)) ?? []);
      expect(held.flat().sort()).toEqual([...bodies].sort());
      expect(held.every((messages) => messages.length === 3)).toBe(true);

      const [first, second, third, fourth] = claims.map((claim) => claim!);
      before = proposals();
      const answers = await Promise.all([
        broker.deleteMessages(ref, { ids: first!.messages.map((m) => m.id), claimIds: [first!.id] }),
        broker.deleteMessage(ref, { id: second!.messages[0]!.id, claimId: second!.id }),
        broker.deleteMessage(ref, { id: second!.messages[0]!.id, claimId: second!.id }),
        broker.releaseClaim(ref, third!.id),
        broker.renewClaim(ref, { claimId: fourth!.id, ttlSeconds: 120, graceSeconds: 60 }),
        broker.renewClaim(ref, { claimId: 'no-such-claim', ttlSeconds: 120, graceSeconds: 60 }),
      ]);
      expect(proposals() - before).toBe(batches ? 1 : 6);
      // The second delete of one message comes after the first, in the same entry or the next.
      expect(answers).toEqual([true, 'deleted', 'missing', undefined, true, false]);
      const left = await broker.listMessages(ref, { ...listing, includeDelayed: true, includeClaimed: true });
      expect(left.map((m) => bodyOf(m)).sort()).toEqual([...held[1]!.slice(1), ...held[2]!, ...held[3]!].sort());
      expect((await broker.getClaim(ref, fourth!.id))?.ttlSeconds).toBe(120);
      expect(await broker.getClaim(ref, third!.id)).toBeNull();
    }
  });
});


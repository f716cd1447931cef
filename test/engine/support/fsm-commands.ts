/**
 * Shared by the shard state machine suites: a seeded random command sequence that
 * exercises every command kind (posts, claims with dead-lettering, renewals, releases,
 * deletes, pops, purges, gc, queue deletes, outbox acks; clocks that sometimes step
 * back; commands carrying dedup keys, some proposed again a few commands later as a
 * router retry would), and a dump of everything a QueueFsm holds (stored state, claim
 * index, claim records, dedup window) for comparing replicas. With `packed`, half the
 * posts are packed posts (commands.ts `PackedPost`, ids derived from their seqs with one
 * fixed tail, so deletes can name them), which the LMDB store keeps as runs of messages
 * beside the one-record messages of the other posts.
 */
import { SeededRandom } from '../../../src/common/random.js';
import type { ShardId } from '../../../src/common/ids.js';
import { encodeBody } from '../../../src/cluster/shard/body-codec.js';
import { dedupKeyOf, needsCommandId } from '../../../src/cluster/shard/command-ids.js';
import type { ShardCommand } from '../../../src/cluster/shard/commands.js';
import type { QueueFsm } from '../../../src/cluster/shard/queue-fsm.js';
import { effectiveMessage } from '../../../src/cluster/shard/claim-extension.js';
import type { StoredClaim } from '../../../src/log/queue-store.js';
import { derivedMessageId } from '../../../src/common/ids.js';
import { packPostedEntries } from '../../../src/log/message-entry.js';

/** The id tail of every message of a packed post here (ids differ by their seqs). */
const packedTail = '0000000000aa';

export function randomCommands(seed: number, count: number, options: { packed?: boolean } = {}): ShardCommand[] {
  const commands = commandSequence(seed, count, options.packed === true);
  // Repeats come from their own stream so the sequence itself stays what it was per seed.
  const retries = new SeededRandom(seed ^ 0x5eed);
  const withRepeats: ShardCommand[] = [];
  commands.forEach((command, i) => {
    withRepeats.push(needsCommandId(command) ? { ...command, commandId: `cmd${i}` } as ShardCommand : command);
    // A repeat of one of the last 3 keyed commands: inside the FSM's default window (60 s,
    // and commands here are at most 18 s apart), so it must change nothing.
    const back = 1 + retries.int(3);
    const earlier = withRepeats[withRepeats.length - back];
    if (retries.int(10) === 0 && earlier !== undefined && dedupKeyOf(earlier) !== undefined) withRepeats.push(earlier);
  });
  return withRepeats;
}

function commandSequence(seed: number, count: number, packed: boolean): ShardCommand[] {
  const random = new SeededRandom(seed);
  const queues = ['a', 'b', 'dlq'];
  const commands: ShardCommand[] = [];
  const claimIds: string[] = [];
  let nowMs = 1_000_000;
  let idCounter = 0;
  const pick = <T>(items: readonly T[]): T => {
    const item = items[random.int(items.length)];
    if (item === undefined) throw new Error('empty pick');
    return item;
  };
  commands.push({ type: 'createQueue', nowMs, project: 'p', queue: 'a', metadata: { _max_claim_count: 2, _dead_letter_queue: 'dlq', _dead_letter_queue_messages_ttl: 120 } });
  for (let i = 0; i < count; i++) {
    nowMs += random.int(20_000) - 2_000;
    const base = { nowMs, project: random.int(5) === 0 ? 'other' : 'p', queue: pick(queues) };
    const roll = random.int(100);
    if (roll < 35) {
      const messages = Array.from({ length: 1 + random.int(4) }, () => ({
        id: (idCounter++).toString(16).padStart(24, '0'),
        body: encodeBody({ n: idCounter, text: 'x'.repeat(random.int(40)) }),
        ttlSeconds: 60 + random.int(600),
        delaySeconds: random.int(4) === 0 ? random.int(60) : 0,
        checksum: null,
      }));
      const clientId = pick(['c1', 'c2']);
      if (packed && random.int(2) === 0) {
        const records = messages.map(({ ttlSeconds, delaySeconds }) => ({
          id: packedTail, ttlSeconds, checksum: null, createdMs: nowMs, expiresMs: nowMs + ttlSeconds * 1000, visibleMs: nowMs + delaySeconds * 1000,
        }));
        const { entries, lengths } = packPostedEntries(clientId, records, messages.map((m) => m.body));
        const ttlSeconds = messages.map((m) => m.ttlSeconds);
        const delaySeconds = messages.map((m) => m.delaySeconds);
        commands.push({ ...base, type: 'post', clientId, packed: { entries, lengths, ttlSeconds, delaySeconds } });
      } else commands.push({ ...base, type: 'post', clientId, messages });
    } else if (roll < 55) {
      const claimId = `claim${i}`;
      claimIds.push(claimId);
      commands.push({ ...base, type: 'claim', claimId, limit: 1 + random.int(5), ttlSeconds: 60 + random.int(120), graceSeconds: 60 });
    } else if (roll < 62 && claimIds.length > 0) {
      commands.push({ ...base, type: 'renew', claimId: pick(claimIds), ttlSeconds: 60 + random.int(120), graceSeconds: 30 });
    } else if (roll < 68 && claimIds.length > 0) {
      commands.push({ ...base, type: 'release', claimId: pick(claimIds) });
    } else if (roll < 78) {
      const id = packed && random.int(2) === 0 ? derivedMessageId(1 + random.int(idCounter + 1), packedTail) : random.int(idCounter + 1).toString(16).padStart(24, '0');
      commands.push({ ...base, type: 'deleteMessage', id, claimId: random.int(2) === 0 ? null : (claimIds[claimIds.length - 1] ?? null) });
    } else if (roll < 83) {
      const ids = [0, 1, 2].map(() => (packed && random.int(2) === 0
        ? derivedMessageId(1 + random.int(idCounter + 1), packedTail) : random.int(idCounter + 1).toString(16).padStart(24, '0')));
      commands.push({ ...base, type: 'deleteMessages', ids, claimIds: null });
    } else if (roll < 88) {
      commands.push({ ...base, type: 'pop', limit: 1 + random.int(3) });
    } else if (roll < 92) {
      commands.push({ type: 'gc', nowMs, removalsMax: 1 + random.int(10) });
    } else if (roll < 94) {
      commands.push({ ...base, type: 'purge' });
    } else if (roll < 95) {
      commands.push({ ...base, type: 'deleteQueue' });
    } else if (roll < 97) {
      commands.push({ type: 'outboxAck', nowMs, outboxSeq: 1 + random.int(5) });
    } else {
      commands.push({ ...base, type: 'setMetadata', metadata: { _max_claim_count: 1, _dead_letter_queue: 'dlq' } });
    }
  }
  return commands;
}

export function dumpState(fsm: QueueFsm): unknown {
  const shard: ShardId = fsm.shardId;
  const store = fsm.store;
  const queues = [...store.allQueues(shard)]
    .sort((x, y) => `${x.project}/${x.name}`.localeCompare(`${y.project}/${y.name}`))
    .map(({ project, name, queue }) => {
      const key = { shardId: shard, project, queue: name };
      // A held message as readers see it: its claim's §5.2 extension is in the claim's record
      // or, on a replica that installed an image or converted an older store, in the message.
      const messages = [...store.messages(key, 0)]
        .map((m) => effectiveMessage(fsm.index, `${project}\u0000${name}`, m))
        .map((m) => ({ ...m, body: [...(store.getBody(key, m.seq) ?? [])] }));
      const free = [...(fsm.index.free(`${project}\u0000${name}`)?.entries() ?? [])];
      const claims = [...fsm.index.claims(`${project}\u0000${name}`).values()]
        // A held message's id is known to the index only where the claim was applied (not after a rebuild): compared without it.
        .map((c) => ({ id: c.id, expiresMs: c.expiresMs, updatedMs: c.updatedMs, ttlSeconds: c.ttlSeconds, messages: c.messages.map(({ seq, expiresMs, visibleMs }) => ({ seq, expiresMs, visibleMs })) }))
        .sort((x, y) => x.id.localeCompare(y.id));
      return { project, name, queue, messages, free, claims };
    });
  // A claim record may still name messages deleted since (StoredClaim): compared by those stored.
  const claimRecords = [...store.claims(shard)]
    .map(({ project, queue, claim }) => ({
      project,
      queue,
      claim: { ...withoutGrace(claim), seqs: claim.seqs.filter((seq) => store.getMessage({ shardId: shard, project, queue }, seq) !== undefined) },
    }))
    .sort((x, y) => `${x.project}/${x.queue}/${x.claim.id}`.localeCompare(`${y.project}/${y.queue}/${y.claim.id}`));
  const outbox = [...store.outbox(shard)].map((o) => ({ seq: o.seq, data: [...o.data] }));
  // The window as an image carries it: a replica's records group its commands by the batches it applied.
  const applied = fsm.windowRecords().map((r) => ({ index: r.index, data: [...r.data] }));
  return { queues, claimRecords, outbox, applied, windowSize: fsm.windowSize, meta: store.getShardMeta(shard) };
}

/** A claim record without where its extension is kept (see dumpState). */
function withoutGrace(claim: StoredClaim): StoredClaim {
  const { graceSeconds: _, ...rest } = claim;
  return rest;
}

import { expect, test } from 'vitest';
import { decodeCommand, encodeCommand, type PostedEntry, type ShardCommand } from './commands.js';

const messages: PostedEntry[] = [{ ttlSeconds: 300, delaySeconds: 0, entry: new Uint8Array([1, 2, 3]) }, { id: 'x', ttlSeconds: 60, delaySeconds: 5, entry: new Uint8Array([4]) }];
const post: ShardCommand = {
  type: 'post', nowMs: 1_763_800_000_123, project: 'p', queue: 'q', clientId: 'c', commandId: 'k', messages,
  expectedMetadata: { _max_messages_post_size: null, _default_message_ttl: 300, _default_message_delay: null },
};

test('the bytes of a post this process encoded give back the command it encoded, without decoding them', () => {
  const data = encodeCommand(post);
  expect(decodeCommand(data)).toBe(post);
  // Held only until that decode: the bytes may outlive it, the command is not kept with them.
  const again = decodeCommand(data);
  expect(again).not.toBe(post);
  expect(again.type === 'post' && again.commandId).toBe('k');
  // Bytes that arrived otherwise (another replica's log, a copy) are decoded, to the same command.
  const copy = decodeCommand(Uint8Array.from(data));
  expect(copy).not.toBe(post);
  const plain = (command: ShardCommand): unknown => ({ ...command, messages: (command.type === 'post' ? command.messages as PostedEntry[] : []).map((m) => ({ ...m, entry: [...m.entry] })) });
  expect(plain(copy)).toEqual(plain(post));
});

test('a copy of the bytes of a post this process encoded (its entry replicated back in a frame) gives back the command it encoded, once', () => {
  const forwarded: ShardCommand = { ...post, commandId: 'forwarded' };
  const sameLength: ShardCommand = { ...post, commandId: 'forwardeD' };
  const data = encodeCommand(forwarded);
  const other = encodeCommand(sameLength);
  expect(other.byteLength).toBe(data.byteLength);
  const frame = Buffer.concat([Buffer.from([0x92]), data, other]);
  expect(decodeCommand(frame.subarray(1 + data.byteLength))).toBe(sameLength);
  expect(decodeCommand(frame.subarray(1, 1 + data.byteLength))).toBe(forwarded);
  // Taken: the proposer's own bytes now decode like any others.
  const again = decodeCommand(data);
  expect(again).not.toBe(forwarded);
  expect(again.type === 'post' && again.commandId).toBe('forwarded');
});

test('any other command is decoded from its bytes', () => {
  const metadata: ShardCommand = { type: 'setMetadata', nowMs: 1, project: 'p', queue: 'q', metadata: { a: 1 } };
  const decoded = decodeCommand(encodeCommand(metadata));
  expect(decoded).not.toBe(metadata);
  expect(decoded).toEqual(metadata);
});

test('posts of every size decode from other bytes to the command encoded, on either side of the compiled-reader bound', () => {
  // 4 and 10 messages: records read more than twice (the case msgpackr compiles a reader for); 120: an entry past the bound.
  for (const count of [4, 10, 120]) {
    const many: PostedEntry[] = Array.from({ length: count }, (_, i) => ({ ttlSeconds: 300 + i, delaySeconds: i % 3, entry: new Uint8Array(256).fill(i) }));
    const command: ShardCommand = { ...post, commandId: `size-${count}`, messages: many };
    const data = encodeCommand(command);
    if (count === 120) expect(data.byteLength).toBeGreaterThan(24 * 1024);
    expect(decodeCommand(data)).toBe(command); // the proposer's own, taken: what follows decodes as another replica does
    for (let round = 0; round < 3; round++) {
      const decoded = decodeCommand(Uint8Array.from(data));
      expect(decoded).not.toBe(command);
      const got = decoded.type === 'post' ? (decoded.messages as PostedEntry[]) : [];
      expect(got.map((m) => [m.ttlSeconds, m.delaySeconds, m.entry[0], m.entry.byteLength])).toEqual(many.map((m) => [m.ttlSeconds, m.delaySeconds, m.entry[0], 256]));
    }
  }
});

test('a batch decodes with its commands, and only with commands a batch may carry', () => {
  const claim: ShardCommand = { type: 'claim', nowMs: 5, project: 'p', queue: 'q', claimId: 'c', limit: 2, ttlSeconds: 60, graceSeconds: 60 };
  const release: ShardCommand = { type: 'release', nowMs: 6, project: 'p', queue: 'r', claimId: 'd', commandId: 'k' };
  const batch: ShardCommand = { type: 'batch', nowMs: 6, commands: [claim, release] };
  expect(decodeCommand(encodeCommand(batch))).toEqual(batch);
  for (const commands of [[], [post], [batch], [{ ...claim, nowMs: undefined }]]) {
    expect(() => decodeCommand(encodeCommand({ type: 'batch', nowMs: 6, commands } as unknown as ShardCommand))).toThrow(/batch/);
  }
});

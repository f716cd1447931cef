/**
 * The commands of a shard's log: every change to queue state is one of these, proposed
 * with everything its outcome depends on (the proposer's time `nowMs`, the ids it
 * minted, message bodies already encoded), so applying the same log on any replica
 * yields the same state. Encoded with msgpackr records; a version tag leads every entry
 * so the format can evolve.
 */
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { Unpackr as NoEvalUnpackr } from 'msgpackr/unpack-no-eval';
import { assert } from '../../common/assert.js';
import type { NodeId, ShardId } from '../../common/ids.js';
import type { SubscriptionCommand } from './subscription-writes.js';

/** A posted message as every post carried it before `PostedEntry` (still applied as it was). */
export interface PostedMessage {
  readonly id: string;
  /** msgpack of the JSON body. */
  readonly body: Uint8Array;
  readonly ttlSeconds: number;
  readonly delaySeconds: number;
  readonly checksum: string | null;
}

/**
 * A posted message carrying its queue-store entry (log/message-entry.ts
 * `encodePostedEntry`: record, checksum and body, times from the command's `nowMs`), so
 * that replicas store the bytes they received instead of encoding the message again.
 * Proposed only once every node applies it (peer-capabilities.ts `postCarriesEntries`).
 */
export interface PostedEntry {
  /**
   * Absent: the message's id is derived from the seq it gets at apply and the tail its
   * entry holds (common/ids.ts), and needs no id index. Proposed only once every node
   * derives it (`postDerivesIds`).
   */
  readonly id?: string;
  readonly ttlSeconds: number;
  readonly delaySeconds: number;
  readonly entry: Uint8Array;
}

/**
 * A post's messages as their queue-store entries (`PostedEntry` without an id, so derived
 * from the seq) back to back in one byte string: encoding and decoding the command then
 * handles one value for them instead of a record per message. Proposed only once every
 * node applies it (peer-capabilities.ts `postPacksEntries`).
 */
export interface PackedPost {
  /** The entries (log/message-entry.ts `packPostedEntries`), in the order of the messages. */
  readonly entries: Uint8Array;
  /** The byte length of each message's entry. */
  readonly lengths: readonly number[];
  readonly ttlSeconds: readonly number[];
  readonly delaySeconds: readonly number[];
}

/** A message moving into a dead-letter queue, keeping its identity. */
export interface MovedMessage {
  readonly id: string;
  readonly body: Uint8Array;
  readonly clientId: string;
  readonly createdMs: number;
  readonly ttlSeconds: number;
  readonly expiresMs: number;
  readonly claimCount: number;
  readonly checksum: string | null;
}

/**
 * An id minted once by the proposer for a command that has no natural one, so the FSM
 * can apply it at most once however often it is proposed (command-ids.ts says which
 * commands carry one). Optional: entries written before it existed decode unchanged.
 */
interface CommandIdentity {
  readonly commandId?: string;
}

interface QueueCommandBase extends CommandIdentity {
  readonly nowMs: number;
  readonly project: string;
  readonly queue: string;
}

export type ShardCommand =
  | (QueueCommandBase & { readonly type: 'createQueue'; readonly metadata: Record<string, unknown> })
  | (QueueCommandBase & { readonly type: 'setMetadata'; readonly metadata: Record<string, unknown> })
  | (QueueCommandBase & { readonly type: 'deleteQueue' })
  | (QueueCommandBase & { readonly type: 'purge' })
  /** Binds the name to a shard outside its hash shard, unless it exists or is bound already (queue-placement.ts). */
  | (QueueCommandBase & { readonly type: 'place'; readonly shardId: ShardId; readonly replicas: readonly NodeId[] })
  | (QueueCommandBase & {
      readonly type: 'post';
      readonly clientId: string;
    } & (
      | { readonly messages: readonly (PostedMessage | PostedEntry)[]; readonly packed?: undefined }
      | { readonly packed: PackedPost; readonly messages?: undefined }
    ) & {
      /**
       * The queue metadata values the post was validated against (expected-metadata.ts):
       * applied only while the queue still holds them. Optional: a post without it (every
       * entry written before it existed) applies unconditionally, as it always did.
       */
      readonly expectedMetadata?: Readonly<Record<string, unknown>>;
    })
  | (QueueCommandBase & { readonly type: 'deleteMessages'; readonly ids: readonly string[]; readonly claimIds: readonly string[] | null })
  | (QueueCommandBase & { readonly type: 'pop'; readonly limit: number })
  | (QueueCommandBase & { readonly type: 'deleteMessage'; readonly id: string; readonly claimId: string | null })
  | (QueueCommandBase & {
      readonly type: 'claim';
      readonly claimId: string;
      readonly limit: number;
      readonly ttlSeconds: number;
      readonly graceSeconds: number;
    })
  | (QueueCommandBase & { readonly type: 'renew'; readonly claimId: string; readonly ttlSeconds: number; readonly graceSeconds: number })
  | (QueueCommandBase & { readonly type: 'release'; readonly claimId: string })
  | (QueueCommandBase & {
      readonly type: 'dlqInsert';
      readonly sourceShard: ShardId;
      readonly outboxSeq: number;
      readonly message: MovedMessage;
    })
  /** Reclaims expired messages, at most `removalsMax` of them. */
  | { readonly type: 'gc'; readonly nowMs: number; readonly removalsMax: number }
  /** The outbox entry `outboxSeq` has been delivered: forget it. */
  | { readonly type: 'outboxAck'; readonly nowMs: number; readonly outboxSeq: number }
  /** A change to a queue's subscriptions or their delivery cursors (subscription-writes.ts). */
  | (SubscriptionCommand & CommandIdentity)
  | BatchCommand;

/**
 * Several requests' commands to one shard as one entry (command-coalescer.ts), applied in
 * order as if each were an entry of its own: each with its own time, its own dedup key
 * and its own answer (`results`, in the same order). Saves every replica an entry, a
 * proposal, a forward item and a commit wait per command. `nowMs` is the latest of its
 * commands' times. Proposed only once every node applies it (peer-capabilities.ts
 * `appliesCommandBatches`).
 */
export interface BatchCommand {
  readonly type: 'batch';
  readonly nowMs: number;
  readonly commands: readonly BatchedCommand[];
}

/** What a batch may carry: the commands of consumers' requests (command-coalescer.ts). */
export type BatchedCommand = Extract<ShardCommand, { type: BatchedCommandType }>;
export const batchedCommandTypes = ['claim', 'deleteMessages', 'deleteMessage', 'renew', 'release', 'pop'] as const;
export type BatchedCommandType = (typeof batchedCommandTypes)[number];

export type ShardCommandType = ShardCommand['type'];

const formatVersion = 1;
const commandTypes: ReadonlySet<string> = new Set<ShardCommandType>([
  'createQueue',
  'setMetadata',
  'deleteQueue',
  'purge',
  'place',
  'post',
  'deleteMessages',
  'pop',
  'deleteMessage',
  'claim',
  'renew',
  'release',
  'dlqInsert',
  'gc',
  'outboxAck',
  'subscription',
  'batch',
]);
const batchedTypes: ReadonlySet<string> = new Set<string>(batchedCommandTypes);

// Records without shared structures: each entry carries its own record definitions, so
// it decodes anywhere, forever, while repeated shapes inside one entry (the messages of
// a post) are written once.
const packr = new Packr({ useRecords: true, moreTypes: false });
/**
 * Decodes entries under `compiledReaderMinBytes` without compiling record readers.
 * msgpackr compiles a reader (`new Function`) for a record shape read more than twice,
 * and an entry's shapes are new objects on every decode, so every replica that did not
 * propose a post of four or more messages paid a compile per decode: a post of ten 7.5 µs
 * against 4.4 without, of fifty 16.3 against 14.0, of a hundred 24.0 against 25.2
 * (bench/post-decode-readers.ts). Larger entries still take `packr`.
 */
const smallEntryUnpackr = new NoEvalUnpackr({ useRecords: true, moreTypes: false });
const compiledReaderMinBytes = 24 * 1024;

/**
 * Post commands this process encoded: the replica that proposed a post applies the
 * command it encoded instead of decoding its entry again (msgpackr compiles a reader for
 * each record shape on every decode of a post of more than three messages). Found by the
 * bytes' identity when the entry is the proposer's own, else by their content: a post
 * forwarded to the leader comes back to its proposer in an AppendEntries frame, as other
 * bytes. Posts only: their fields are numbers, strings, byte arrays and metadata values
 * read back from the store, which decode as the same values, while a command carrying
 * request JSON (queue metadata: a `__proto__` key decodes renamed) might not.
 */
interface EncodedPost {
  readonly data: Uint8Array;
  readonly command: ShardCommand;
  readonly key: number;
}
const encodedPosts = new WeakMap<Uint8Array, EncodedPost>();
/** The same posts by content key, oldest first; a post whose entry never comes back (lost proposal) is dropped past the bound. */
const encodedPostsByContent = new Map<number, EncodedPost>();
const encodedPostsByContentMax = 1024;

/** CRC-32 and length: equal bytes have equal keys (a match is then compared byte for byte). */
function contentKey(data: Uint8Array): number {
  return crc32(data) + data.byteLength * 2 ** 32;
}

export function encodeCommand(command: ShardCommand): Uint8Array {
  const data = packr.pack([formatVersion, command]);
  if (command.type === 'post') {
    const post: EncodedPost = { data, command, key: contentKey(data) };
    encodedPosts.set(data, post);
    encodedPostsByContent.set(post.key, post);
    if (encodedPostsByContent.size > encodedPostsByContentMax) {
      const oldest = encodedPostsByContent.keys().next().value;
      if (oldest !== undefined) encodedPostsByContent.delete(oldest);
    }
  }
  return data;
}

/** The command of a post this process encoded, if `data` is its entry (the same bytes or a copy). */
function takeEncodedPost(data: Uint8Array): ShardCommand | undefined {
  let post = encodedPosts.get(data);
  if (post === undefined && encodedPostsByContent.size > 0) {
    const held = encodedPostsByContent.get(contentKey(data));
    if (held !== undefined && Buffer.compare(held.data, data) === 0) post = held;
  }
  if (post === undefined) return undefined;
  // A post applies once per process: the log may hold its bytes longer (recent-entries.ts), the command need not.
  encodedPosts.delete(post.data);
  encodedPostsByContent.delete(post.key);
  return post.command;
}

export function decodeCommand(data: Uint8Array): ShardCommand {
  const encoded = takeEncodedPost(data);
  if (encoded !== undefined) return encoded;
  const decoded: unknown = (data.byteLength < compiledReaderMinBytes ? smallEntryUnpackr : packr).unpack(data);
  assert(Array.isArray(decoded) && decoded.length === 2, 'shard command entry is not [version, command]');
  const [version, command] = decoded as [unknown, unknown];
  assert(version === formatVersion, () => `unknown shard command format ${String(version)}`);
  assert(
    typeof command === 'object' && command !== null && commandTypes.has(String((command as { type?: unknown }).type)),
    'unknown shard command type',
  );
  assert(typeof (command as { nowMs?: unknown }).nowMs === 'number', 'shard command without nowMs');
  if ((command as { type: unknown }).type === 'batch') {
    const { commands } = command as { commands?: unknown };
    assert(Array.isArray(commands) && commands.length > 0, 'shard command batch without commands');
    for (const batched of commands as unknown[]) {
      assert(typeof batched === 'object' && batched !== null && batchedTypes.has(String((batched as { type?: unknown }).type)),
        'shard command batch carries a command it may not');
      assert(typeof (batched as { nowMs?: unknown }).nowMs === 'number', 'batched shard command without nowMs');
    }
  }
  return command as ShardCommand;
}

/**
 * The messages of a post command as its proposer builds them: ids minted and bodies
 * encoded once, here, so that every replica applies the same bytes. Once every node
 * applies them (peer-capabilities.ts `postCarriesEntries`), each message also travels as
 * its queue-store entry (commands.ts `PostedEntry`): replicas then store what they
 * received instead of encoding every message again. Once every node also derives ids
 * (`postDerivesIds`), a message's id is derived from the seq it gets at apply and a
 * random tail minted here (common/ids.ts): no id index record per message. Once every
 * node also applies packed posts (`postPacksEntries`), the entries travel back to back
 * in one byte string (commands.ts `PackedPost`).
 */
import { derivedMessageId, newIdTails, newObjectId } from '../../common/ids.js';
import { entryViews, packPostedEntries } from '../../log/message-entry.js';
import type { NewMessage } from '../records.js';
import { encodeBody } from './body-codec.js';
import { messageChecksum } from './checksum.js';
import type { PackedPost, PostedEntry, PostedMessage } from './commands.js';
import { normaliseClientId } from './message-view.js';

export interface PostOptions {
  readonly nowMs: number;
  readonly clientId: string;
  readonly enableChecksum: boolean;
  /** Whether the messages travel as entries (every replica applies `PostedEntry`). */
  readonly asEntries: boolean;
  /** With `asEntries`: whether their ids are derived from their seqs at apply (every replica derives them). */
  readonly derivesIds: boolean;
  /** With `derivesIds`: whether the entries travel packed (every replica applies `PackedPost`). */
  readonly packsEntries?: boolean;
}

export interface Post {
  /** What the post command carries of its messages. */
  readonly carried: { readonly messages: (PostedMessage | PostedEntry)[] } | { readonly packed: PackedPost };
  /** The ids of the messages, given the seqs the post's result assigned them. */
  idsOf(seqs: readonly number[]): string[];
}

export function postedMessages(messages: readonly NewMessage[], options: PostOptions): Post {
  const { nowMs, enableChecksum, asEntries } = options;
  const derivesIds = asEntries && options.derivesIds;
  // A derived id's tail stands in for the id until the seq is known.
  const ids = derivesIds ? newIdTails(messages.length) : messages.map(() => newObjectId(nowMs));
  const bodies = messages.map(({ body, encodedBody }) => encodedBody ?? encodeBody(body));
  const checksums = messages.map(({ body }) => (enableChecksum ? messageChecksum(body) : null));
  const idsOf = (seqs: readonly number[]): string[] => (derivesIds ? seqs.map((seq, i) => derivedMessageId(seq, ids[i]!)) : ids);
  if (!asEntries) {
    const posted = messages.map(({ ttlSeconds, delaySeconds }, i) => ({ id: ids[i]!, body: bodies[i]!, ttlSeconds, delaySeconds, checksum: checksums[i]! }));
    return { carried: { messages: posted }, idsOf };
  }
  const records = messages.map(({ ttlSeconds, delaySeconds }, i) => ({
    id: ids[i]!, ttlSeconds, checksum: checksums[i]!, createdMs: nowMs, expiresMs: nowMs + ttlSeconds * 1000, visibleMs: nowMs + delaySeconds * 1000,
  }));
  const entries = packPostedEntries(normaliseClientId(options.clientId), records, bodies);
  if (derivesIds && options.packsEntries === true) {
    // Not a spread of `entries`: V8 copies that in its runtime, ~7 µs a post here.
    const packed = { entries: entries.entries, lengths: entries.lengths, ttlSeconds: messages.map((m) => m.ttlSeconds),
      delaySeconds: messages.map((m) => m.delaySeconds) };
    return { carried: { packed }, idsOf };
  }
  const views = entryViews(entries);
  const posted = messages.map(({ ttlSeconds, delaySeconds }, i): PostedEntry => {
    const entry = views[i]!;
    return derivesIds ? { ttlSeconds, delaySeconds, entry } : { id: ids[i]!, ttlSeconds, delaySeconds, entry };
  });
  return { carried: { messages: posted }, idsOf };
}

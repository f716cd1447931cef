/**
 * The messages of a post command as its proposer builds them: ids minted and bodies
 * encoded once, here, so that every replica applies the same bytes. Once every node
 * applies them (peer-capabilities.ts `postCarriesEntries`), each message also travels as
 * its queue-store entry (commands.ts `PostedEntry`): replicas then store what they
 * received instead of encoding every message again.
 */
import { newObjectId } from '../../common/ids.js';
import { encodePostedEntry } from '../../log/message-entry.js';
import type { NewMessage } from '../records.js';
import { encodeBody } from './body-codec.js';
import { messageChecksum } from './checksum.js';
import type { PostedEntry, PostedMessage } from './commands.js';
import { normaliseClientId } from './message-view.js';

export interface PostOptions {
  readonly nowMs: number;
  readonly clientId: string;
  readonly enableChecksum: boolean;
  /** Whether the messages travel as entries (every replica applies `PostedEntry`). */
  readonly asEntries: boolean;
}

export function postedMessages(messages: readonly NewMessage[], options: PostOptions): (PostedMessage | PostedEntry)[] {
  const { nowMs, enableChecksum, asEntries } = options;
  const clientId = normaliseClientId(options.clientId);
  return messages.map(({ body: value, ttlSeconds, delaySeconds }) => {
    const id = newObjectId(nowMs);
    const body = encodeBody(value);
    const checksum = enableChecksum ? messageChecksum(value) : null;
    if (!asEntries) return { id, body, ttlSeconds, delaySeconds, checksum };
    const times = { createdMs: nowMs, expiresMs: nowMs + ttlSeconds * 1000, visibleMs: nowMs + delaySeconds * 1000 };
    return { id, ttlSeconds, delaySeconds, entry: encodePostedEntry({ id, clientId, ttlSeconds, checksum, ...times }, body) };
  });
}

/**
 * A post command's entry as nodes propose it now (queue-store entries, ids derived from
 * seqs): `count` messages whose bodies encode to about `bodyBytes` bytes each. What the
 * decode benchmarks feed to a replica that did not propose the post.
 */
import { encodeCommand } from '../src/cluster/shard/commands.js';
import { postedMessages } from '../src/cluster/shard/posted-messages.js';

export function entriesPostCommand(count: number, bodyBytes = 256): Uint8Array {
  const nowMs = Date.now();
  const clientId = 'c0a80001-0000-4000-8000-000000000000';
  const newMessages = Array.from({ length: count }, () => ({ body: { pad: 'a'.repeat(bodyBytes - 12) }, ttlSeconds: 3600, delaySeconds: 0 }));
  const { carried } = postedMessages(newMessages, { nowMs, clientId, enableChecksum: false, asEntries: true, derivesIds: true });
  return encodeCommand({ type: 'post', nowMs, project: 'bench', queue: 'q', clientId, ...carried });
}

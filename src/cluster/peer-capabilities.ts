/**
 * What each peer's version can do, as it advertised in its last address book exchange
 * (address-book-sync.ts), for features that are safe only once every node has them. A
 * node of an older version advertises nothing (the field is new) and counts as having
 * none; a node not heard from since this node started also counts as having none, so a
 * feature stays off until proven everywhere.
 *
 * Used for what a node proposes or asks of others, never inside the FSM: an entry's
 * effect depends only on the entry, so replicas decide alike whatever this view says.
 * It does not protect a downgrade: a node once heard with a capability is assumed to keep
 * it until its next exchange says otherwise (README "Rolling upgrades").
 */

/** A post may carry `expectedMetadata` (shard/expected-metadata.ts): every replica checks it. */
export const postChecksExpectedMetadata = 'post-expected-metadata';
/** A replica answers the `messagePage` query (a listing with the delay-queue rule applied). */
export const answersMessagePage = 'message-page-query';

/** A replica applies posts whose messages carry their queue-store entry (shard/commands.ts `PostedEntry`). */
export const postCarriesEntries = 'post-message-entries';

/** A replica applies a `PostedEntry` without an id: the id is derived from the seq (common/ids.ts). */
export const postDerivesIds = 'post-derived-ids';

/** A replica applies a post whose entries travel packed in one byte string (shard/commands.ts `PackedPost`). */
export const postPacksEntries = 'post-packed-entries';

/** A replica applies a batch of consumers' commands as one entry (shard/commands.ts `BatchCommand`). */
export const appliesCommandBatches = 'command-batches';

/** What this version advertises. */
export const ownCapabilities: readonly string[] = [postChecksExpectedMetadata, answersMessagePage, postCarriesEntries, postDerivesIds,
  postPacksEntries, appliesCommandBatches];

/** At most this many capabilities of at most `capabilityLengthMax` characters are accepted from a peer. */
export const capabilitiesMax = 64;
export const capabilityLengthMax = 64;

export class PeerCapabilities {
  private readonly byNode = new Map<number, ReadonlySet<string>>();

  /** Notes what `nodeId` advertised in an exchange (undefined: a version that advertises nothing). */
  record(nodeId: number, capabilities: readonly string[] | undefined): void {
    this.byNode.set(nodeId, new Set(capabilities ?? []));
  }

  /** Whether every node of `nodeIds` advertised `capability` when last heard. */
  allHave(nodeIds: Iterable<number>, capability: string): boolean {
    for (const nodeId of nodeIds) {
      if (this.byNode.get(nodeId)?.has(capability) !== true) return false;
    }
    return true;
  }
}

/** Whether a received value is a well-formed capability list. */
export function isCapabilityList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length <= capabilitiesMax
    && value.every((item) => typeof item === 'string' && item.length <= capabilityLengthMax);
}

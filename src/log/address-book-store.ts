/**
 * AddressBookStore: where a node keeps the cluster address book (node id → cluster gRPC
 * address, with the version that orders concurrent changes) so that a restart with the
 * original flags still knows every node added since. The log layer stores the entries
 * as given; merging them is the cluster's business (src/cluster/address-book.ts).
 *
 * Invariants: one entry per node id (a save replaces the entries of the ids it names);
 * `save` resolves only once the entries are durable, so an entry acknowledged to a peer
 * or an operator survives a crash.
 */

/** One node's entry; `address` null is a removed node (kept so the removal wins merges). */
export interface StoredAddress {
  readonly nodeId: number;
  readonly address: string | null;
  /** Change counter of the write; with `writer` it orders versions of one entry. */
  readonly counter: number;
  /** Node id that wrote this version. */
  readonly writer: number;
}

export interface AddressBookStore {
  /** Every stored entry, in node id order. */
  load(): StoredAddress[];
  /** Writes the entries (replacing those of the same node ids); resolves once durable. */
  save(entries: readonly StoredAddress[]): Promise<void>;
  close(): Promise<void>;
}

/** Whether a stored value has the entry's shape (checked on both sides of the store). */
export function isStoredAddress(value: unknown): value is StoredAddress {
  if (typeof value !== 'object' || value === null) return false;
  const { nodeId, address, counter, writer } = value as Record<string, unknown>;
  return isId(nodeId) && isId(writer) && typeof counter === 'number' && Number.isSafeInteger(counter) && counter >= 0
    && (address === null || (typeof address === 'string' && address.length > 0));
}

function isId(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= 0xffff_ffff;
}

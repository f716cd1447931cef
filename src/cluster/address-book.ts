/**
 * AddressBook: every node's cluster gRPC address by node id, as one node knows it. Each
 * entry carries a version (change counter, writer node id); two copies of an entry merge
 * by keeping the greater version (last writer wins), so books exchanged in any order, any
 * number of times, end equal on every node (merge is commutative, associative and
 * idempotent; address-book.test.ts checks it). A node that writes an entry takes a
 * counter above every counter in its book, so its change wins over everything it has
 * seen. A removed node keeps a tombstone entry (address null): without it, a peer still
 * holding the old address would bring the node back at the next exchange.
 *
 * The book is bounded (`entriesMax`): entries for unknown ids beyond it are ignored.
 */
import { assert } from '../common/assert.js';

export interface AddressEntry {
  readonly nodeId: number;
  /** null: the node was removed. */
  readonly address: string | null;
  readonly counter: number;
  readonly writer: number;
}

/** More node ids than any cluster this broker runs; ids are never reused, so tombstones count too. */
export const addressBookEntriesMax = 1024;

/** HOST:PORT with a non-empty host (name, IPv4 or [IPv6]) and a port in 1..65535. */
export function isNodeAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 255) return false;
  const match = /^([^\s,=/]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2] ?? 0);
  return match !== null && port >= 1 && port <= 65_535;
}

/** Whether `a` is a newer version than `b` (a total order, so every node picks the same winner). */
function isNewer(a: AddressEntry, b: AddressEntry): boolean {
  if (a.counter !== b.counter) return a.counter > b.counter;
  if (a.writer !== b.writer) return a.writer > b.writer;
  // Same version, different content: only after a writer lost its book; any fixed order will do.
  return (a.address ?? '') > (b.address ?? '');
}

/** Whether a value received from a peer is a well-formed entry. */
export function isAddressEntry(value: unknown): value is AddressEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { nodeId, address, counter, writer } = value as Record<string, unknown>;
  const isId = (id: unknown): boolean => typeof id === 'number' && Number.isSafeInteger(id) && id >= 1 && id <= 0xffff_ffff;
  return isId(nodeId) && isId(writer) && typeof counter === 'number' && Number.isSafeInteger(counter) && counter >= 0
    && (address === null || isNodeAddress(address));
}

export class AddressBook {
  private readonly byNode = new Map<number, AddressEntry>();
  private counterMax = 0;

  /** `self`: the node keeping this book (the writer of its own changes). */
  constructor(readonly self: number, entries: Iterable<AddressEntry> = []) {
    this.merge(entries);
  }

  get(nodeId: number): AddressEntry | undefined {
    return this.byNode.get(nodeId);
  }

  /** The node's address, unless unknown or removed. */
  address(nodeId: number): string | undefined {
    return this.byNode.get(nodeId)?.address ?? undefined;
  }

  /** Every entry, tombstones included, in node id order. */
  entries(): AddressEntry[] {
    return [...this.byNode.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Live addresses of every node but `self`, in node id order. */
  peers(): Map<number, string> {
    const peers = new Map<number, string>();
    for (const entry of this.entries()) {
      if (entry.nodeId !== this.self && entry.address !== null) peers.set(entry.nodeId, entry.address);
    }
    return peers;
  }

  /**
   * Records this node's own change (an address, or null to remove the node); returns the
   * new entry, or undefined when the book already says so (no new version is minted).
   */
  write(nodeId: number, address: string | null): AddressEntry | undefined {
    const current = this.byNode.get(nodeId);
    if (current !== undefined && current.address === address) return undefined;
    if (current === undefined && address === null) return undefined;
    assert(address === null || isNodeAddress(address), () => `invalid node address ${JSON.stringify(address)}`);
    const entry: AddressEntry = { nodeId, address, counter: this.counterMax + 1, writer: this.self };
    const changed = this.merge([entry]);
    assert(changed.length === 1, () => `own write of node ${nodeId} lost its merge`);
    return entry;
  }

  /** Keeps the newer version of every entry; returns the entries that changed here. */
  merge(entries: Iterable<AddressEntry>): AddressEntry[] {
    const changed: AddressEntry[] = [];
    for (const entry of entries) {
      assert(isAddressEntry(entry), () => `malformed address book entry ${JSON.stringify(entry)}`);
      const current = this.byNode.get(entry.nodeId);
      if (current === undefined && this.byNode.size >= addressBookEntriesMax) continue;
      if (current !== undefined && !isNewer(entry, current)) continue;
      const copy: AddressEntry = { nodeId: entry.nodeId, address: entry.address, counter: entry.counter, writer: entry.writer };
      this.byNode.set(entry.nodeId, copy);
      this.counterMax = Math.max(this.counterMax, entry.counter);
      changed.push(copy);
    }
    return changed;
  }
}

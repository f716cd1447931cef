/**
 * What the admin API needs of the cluster's persisted address book (node id → cluster
 * gRPC address) to add and remove nodes; the cluster's AddressBookSync satisfies it and
 * main.ts hands it over in ApiDeps. Declared here, by its consumer.
 */

/** The address book as the admin API uses it (the cluster's AddressBookSync satisfies it). */
export interface ClusterAddressBook {
  /** The node's known cluster address, if any. */
  address(nodeId: number): string | undefined;
  /** Records the node's address, connects to it and tells every node in the book. */
  record(nodeId: number, address: string): Promise<void>;
  /** Drops the node's entry here and on every node in the book. */
  remove(nodeId: number): Promise<void>;
}

/**
 * AddressBookSync keeps this node's address book (address-book.ts) persisted and in step
 * with the other nodes', so that a node added through the admin API is known to every
 * node, also after restarts with the original `--peers`, and a node removed is forgotten.
 *
 * - At open: the stored book is loaded; this node's own address and every explicit
 *   `--peers` entry win for their ids (a new version is written when they differ).
 * - `record`/`remove` (the admin API, through the composition): the change is written
 *   here, persisted, applied (`onChange`: the transport connects) and pushed to every
 *   node in the book before the call resolves; a node that misses the push pulls later.
 * - Exchanges are push and pull at once (AddressExchanger): the peer merges our book and
 *   answers with its own, which we merge. `pullUntilAnswered` (joining, and start) retries
 *   seeds and known peers with jittered back-off until one answers; `startPulling`
 *   exchanges with every known node every `pullIntervalMs` (jittered ±50 %).
 *
 * Every change is persisted before `onChange` hears of it and before an exchange is
 * answered, so nothing this node told another is lost in a crash.
 */
import type { Delays } from '../common/timers.js';
import type { Logger } from '../common/logger.js';
import type { Random } from '../common/random.js';
import { AddressBook, type AddressEntry } from './address-book.js';
import { ownCapabilities, PeerCapabilities } from './peer-capabilities.js';

/** One exchange: the sender's id and its whole book, and what its version can do (absent from older versions). */
export interface AddressExchange {
  readonly from: number;
  readonly entries: readonly AddressEntry[];
  readonly capabilities?: readonly string[];
}

/** The network side of an exchange (gRPC: grpc/address-book-service.ts). */
export interface AddressExchanger {
  exchange(address: string, request: AddressExchange, options: { readonly deadlineMs: number }): Promise<AddressExchange>;
  close(): void;
}

/** Where the book is kept (the log layer's AddressBookStore satisfies it). */
export interface AddressBookPersistence {
  load(): AddressEntry[];
  /** Resolves once durable. */
  save(entries: readonly AddressEntry[]): Promise<void>;
  close(): Promise<void>;
}

export interface AddressBookSyncOptions {
  readonly nodeId: number;
  /** Where the others dial this node; undefined: not published (a wildcard listen address without `advertise`). */
  readonly ownAddress: string | undefined;
  /** Explicit `--peers` entries: each wins for its id. */
  readonly peers: ReadonlyMap<number, string>;
  /** `--join` addresses, tried first by `pullUntilAnswered`. */
  readonly seeds: readonly string[];
  readonly pullIntervalMs: number;
  readonly exchangeDeadlineMs: number;
}

export interface AddressBookSyncDeps {
  readonly store: AddressBookPersistence;
  readonly exchanger: AddressExchanger;
  readonly delays: Delays;
  readonly random: Random;
  readonly logger: Logger;
  /** Hears the entries that changed, after they were persisted. */
  readonly onChange: (changed: readonly AddressEntry[]) => void;
}

const retryBaseMs = 200;
const retryMaxMs = 5_000;

export class AddressBookSync {
  private stopPulling: (() => void) | undefined;
  private isClosed = false;
  /** What each peer advertised in its last exchange with this node (either direction). */
  readonly capabilities = new PeerCapabilities();

  private constructor(
    private readonly book: AddressBook,
    private readonly options: AddressBookSyncOptions,
    private readonly deps: AddressBookSyncDeps,
  ) {}

  static async open(options: AddressBookSyncOptions, deps: AddressBookSyncDeps): Promise<AddressBookSync> {
    const book = new AddressBook(options.nodeId, deps.store.load());
    const written: AddressEntry[] = [];
    const own = options.ownAddress === undefined ? undefined : book.write(options.nodeId, options.ownAddress);
    if (own !== undefined) written.push(own);
    for (const [nodeId, address] of options.peers) {
      const entry = book.write(nodeId, address);
      if (entry !== undefined) written.push(entry);
    }
    await deps.store.save(written);
    return new AddressBookSync(book, options, deps);
  }

  /** Every entry, tombstones included, in node id order. */
  entries(): AddressEntry[] {
    return this.book.entries();
  }

  /** Where this node dials each other live node (see `dialAddress`). */
  peers(): Map<number, string> {
    const peers = new Map<number, string>();
    for (const entry of this.book.entries()) {
      const address = this.dialAddress(entry);
      if (entry.nodeId !== this.options.nodeId && address !== undefined) peers.set(entry.nodeId, address);
    }
    return peers;
  }

  /**
   * Where this node dials the entry's node: its own `--peers` entry when it has one (a
   * proxy, another network path) even if the book, shared by all, says otherwise; the
   * book's address else; undefined once the node was removed (a removal wins).
   */
  dialAddress(entry: AddressEntry): string | undefined {
    return entry.address === null ? undefined : (this.options.peers.get(entry.nodeId) ?? entry.address);
  }

  /** The node's live address, if known. */
  address(nodeId: number): string | undefined {
    return this.book.address(nodeId);
  }

  /** Records a node's address (an operator's add), applies it and tells every node in the book. */
  async record(nodeId: number, address: string): Promise<void> {
    await this.writeAndPush(nodeId, address);
  }

  /** Removes a node's entry (after it left every shard) and tells every node in the book. */
  async remove(nodeId: number): Promise<void> {
    await this.writeAndPush(nodeId, null);
  }

  /** Answers a peer's exchange: merges its book, persists, answers with ours. */
  async serve(request: AddressExchange): Promise<AddressExchange> {
    this.capabilities.record(request.from, request.capabilities);
    await this.absorb(request.entries);
    return this.ownExchange();
  }

  /** Exchanges with the seeds, then the known peers, until one answers (retrying with back-off until closed). */
  async pullUntilAnswered(): Promise<boolean> {
    for (let attempt = 0; !this.isClosed; attempt++) {
      const targets = [...new Set([...this.options.seeds, ...this.peers().values()])];
      for (const address of targets) {
        if (await this.exchangeWith(address)) {
          this.deps.logger.info({ address, nodes: this.peers().size }, 'address book pulled');
          return true;
        }
      }
      if (targets.length === 0) return false;
      const delayMs = Math.round(Math.min(retryMaxMs, retryBaseMs * 2 ** attempt) * (0.5 + this.deps.random.next()));
      this.deps.logger.info({ targets, attempt: attempt + 1, retryInMs: delayMs }, 'no node answered the address book pull yet; retrying');
      await new Promise<void>((resolve) => this.deps.delays.after(delayMs, resolve));
    }
    return false;
  }

  /** Exchanges with every node in the book now, then every `pullIntervalMs` (jittered), until closed. */
  startPulling(): void {
    if (this.isClosed || this.stopPulling !== undefined) return;
    const round = (): void => {
      this.exchangeWithAll().then(schedule, (error: unknown) => {
        this.deps.logger.warn({ err: error }, 'address book pull failed');
        schedule();
      });
    };
    const schedule = (): void => {
      if (this.isClosed) return;
      this.stopPulling = this.deps.delays.after(Math.round(this.options.pullIntervalMs * (0.5 + this.deps.random.next())), round);
    };
    // The first round at once: a node that was down during a change catches up at start.
    this.stopPulling = this.deps.delays.after(0, round);
  }

  close(): void {
    this.isClosed = true;
    this.stopPulling?.();
    this.deps.exchanger.close();
  }

  private async writeAndPush(nodeId: number, address: string | null): Promise<void> {
    const entry = this.book.write(nodeId, address);
    if (entry !== undefined) {
      await this.deps.store.save([entry]);
      this.deps.onChange([entry]);
    }
    // Pushed even when unchanged: a node that missed the first push gets it now.
    await this.exchangeWithAll();
  }

  /** One exchange with every node in the book, concurrently; resolves once all answered or failed. */
  private async exchangeWithAll(): Promise<void> {
    await Promise.all([...this.peers().values()].map((address) => this.exchangeWith(address)));
  }

  private async exchangeWith(address: string): Promise<boolean> {
    if (this.isClosed) return false;
    let reply: AddressExchange;
    try {
      reply = await this.deps.exchanger.exchange(address, this.ownExchange(), { deadlineMs: this.options.exchangeDeadlineMs });
    } catch (error) {
      this.deps.logger.debug({ address, err: error }, 'address book exchange failed');
      return false;
    }
    this.capabilities.record(reply.from, reply.capabilities);
    await this.absorb(reply.entries);
    return true;
  }

  private ownExchange(): AddressExchange {
    return { from: this.options.nodeId, entries: this.book.entries(), capabilities: ownCapabilities };
  }

  /** Whether every other live node in the book advertised `capability` (this node has every capability of its version). */
  everyPeerHas(capability: string): boolean {
    return this.capabilities.allHave(this.peers().keys(), capability);
  }

  private async absorb(entries: readonly AddressEntry[]): Promise<void> {
    const changed = this.book.merge(entries);
    if (changed.length === 0) return;
    await this.deps.store.save(changed);
    if (!this.isClosed) this.deps.onChange(changed);
  }
}

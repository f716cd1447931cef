/**
 * In-memory RaftLogStore for tests and the simulator, modelling what a disk does to the
 * Raft log: a write is visible at once but durable only once flushed, a crash loses
 * every unflushed write, and stored bytes can rot or be cut off. Entries and the snapshot
 * carry checksums verified on `load` (a restart): a bad entry drops it and the rest of
 * the log, a bad snapshot drops the snapshot and the log, and the loss is reported as
 * `damage` so raft refuses to vote on a log that lost acknowledged entries.
 *
 * Two copies per group: `live` (what reads see) and `durable` (what survives `crash()`).
 * With `isAutoFlush` every write is durable before its promise resolves.
 */
import { assert } from '../../common/assert.js';
import type { Entry, HardState, LogIndex, RaftGroupState, ShardId, Snapshot, Term } from '../../raft/types.js';
import type { LogStore } from '../log-store.js';

interface StoredEntry {
  readonly entry: Entry;
  readonly checksum: number;
}

interface GroupLog {
  hardState: HardState;
  snapshot: { readonly snapshot: Snapshot; readonly checksum: number } | undefined;
  /** entries[i].entry.index === firstIndex + i */
  entries: StoredEntry[];
  firstIndex: LogIndex;
  /** Last index of the log as last written; kept apart from the entries, so a torn tail shows. */
  lastIndexWritten: LogIndex;
  /** Set when damage was found: the last index seen before it, kept until the log reaches it again. */
  damageMark: LogIndex;
}

type Write = (log: GroupLog) => void;

export class StorageWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageWriteError';
  }
}

export class MemoryLogStore implements LogStore {
  private readonly live = new Map<ShardId, GroupLog>();
  private readonly durable = new Map<ShardId, GroupLog>();
  private pending: { shardId: ShardId; write: Write; resolve: () => void }[] = [];
  private readonly isAutoFlush: boolean;
  /** When set, every write fails (a full or broken disk). */
  isFailing = false;

  constructor(options: { isAutoFlush?: boolean } = {}) {
    this.isAutoFlush = options.isAutoFlush ?? true;
  }

  load(shardId: ShardId): RaftGroupState {
    const log = this.group(this.live, shardId);
    const damageFrom = verify(log);
    // The drop is a write of its own: later writes must find the durable copy repaired too.
    verify(this.group(this.durable, shardId));
    const lastIndex = lastIndexOf(log);
    const mark = log.damageMark;
    const damage = mark > lastIndex ? { fromIndex: damageFrom ?? ((lastIndex + 1) as LogIndex), lastIndexSeen: mark } : undefined;
    return { hardState: log.hardState, snapshotMeta: log.snapshot?.snapshot.meta, firstIndex: log.firstIndex, lastIndex, ...(damage === undefined ? {} : { damage }) };
  }

  hasGroup(shardId: ShardId): boolean {
    const log = this.live.get(shardId);
    if (log === undefined) return false;
    // What load() would find, verified on a copy so the store itself is left as it was.
    const verified = cloneGroup(log);
    verify(verified);
    return lastIndexOf(verified) > 0 || verified.snapshot !== undefined || verified.hardState.term > 0;
  }

  storedGroups(from: ShardId): ShardId[] {
    return [...this.live.keys()].filter((shardId) => shardId >= from && this.hasGroup(shardId)).sort((a, b) => a - b);
  }

  /** The live log's bounds, without verification (for checkers). */
  bounds(shardId: ShardId): { firstIndex: LogIndex; lastIndex: LogIndex } {
    const log = this.group(this.live, shardId);
    return { firstIndex: log.firstIndex, lastIndex: lastIndexOf(log) };
  }

  entries(shardId: ShardId, range: { lo: LogIndex; hi: LogIndex; bytesMax?: number }): Entry[] {
    const log = this.group(this.live, shardId);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = range.lo; index < range.hi; index++) {
      const stored = log.entries[index - log.firstIndex];
      if (stored === undefined) break;
      bytes += stored.entry.data.byteLength;
      if (result.length > 0 && range.bytesMax !== undefined && bytes > range.bytesMax) break;
      result.push(stored.entry);
    }
    return result;
  }

  term(shardId: ShardId, index: LogIndex): Term | undefined {
    const log = this.group(this.live, shardId);
    if (log.snapshot !== undefined && log.snapshot.snapshot.meta.index === index) return log.snapshot.snapshot.meta.term;
    return log.entries[index - log.firstIndex]?.entry.term;
  }

  snapshot(shardId: ShardId): Snapshot | undefined {
    return this.group(this.live, shardId).snapshot?.snapshot;
  }

  persist(shardId: ShardId, batch: { entries: readonly Entry[]; hardState?: HardState }): Promise<void> {
    const entries = batch.entries.map((entry) => ({ entry, checksum: entryChecksum(entry) }));
    return this.write(shardId, (log) => {
      const first = entries[0];
      if (first !== undefined) {
        const at = first.entry.index - log.firstIndex;
        assert(at >= 0 && at <= log.entries.length, () => `persist at ${first.entry.index} leaves a gap after ${lastIndexOf(log)}`);
        log.entries = log.entries.slice(0, at).concat(entries);
        wrote(log);
      }
      if (batch.hardState !== undefined) log.hardState = batch.hardState;
    });
  }

  persistSnapshot(shardId: ShardId, snapshot: Snapshot): Promise<void> {
    const checksum = snapshotChecksum(snapshot);
    return this.write(shardId, (log) => {
      const { index, term } = snapshot.meta;
      const stored = log.entries[index - log.firstIndex];
      // Entries after the snapshot survive only if the log agrees with it (local compaction).
      log.entries = stored !== undefined && stored.entry.term === term ? log.entries.slice(index - log.firstIndex + 1) : [];
      log.firstIndex = (index + 1) as LogIndex;
      log.snapshot = { snapshot, checksum };
      wrote(log);
    });
  }

  compact(shardId: ShardId, index: LogIndex): Promise<void> {
    return this.write(shardId, (log) => {
      const drop = Math.min(index - log.firstIndex + 1, log.entries.length);
      if (drop <= 0) return;
      log.entries = log.entries.slice(drop);
      log.firstIndex = (log.firstIndex + drop) as LogIndex;
    });
  }

  /** Forgets the group (entries, hard state, snapshot): load() then finds a brand-new group. */
  removeGroup(shardId: ShardId): Promise<void> {
    return this.write(shardId, (log) => {
      Object.assign(log, emptyGroup());
    });
  }

  // ---- fault injection (simulator) -----------------------------------------------

  /** Makes every pending write durable and resolves its promise. */
  flush(): void {
    const pending = this.pending;
    this.pending = [];
    for (const { shardId, write, resolve } of pending) {
      write(this.group(this.durable, shardId));
      resolve();
    }
  }

  hasPendingWrites(): boolean {
    return this.pending.length > 0;
  }

  /** Power loss: unflushed writes vanish (their promises never settle). */
  crash(): void {
    this.pending = [];
    this.live.clear();
    for (const [shardId, log] of this.durable) this.live.set(shardId, cloneGroup(log));
  }

  /** Flips one bit of the stored entry at `index` (durably), as bit rot would. */
  corruptEntry(shardId: ShardId, index: LogIndex): boolean {
    return this.onBothCopies(shardId, (log) => {
      const at = index - log.firstIndex;
      const stored = log.entries[at];
      if (stored === undefined) return false;
      log.entries[at] = { entry: { ...stored.entry, data: flipBit(stored.entry.data) }, checksum: stored.checksum };
      return true;
    });
  }

  /** Cuts the stored log off from `fromIndex` (a torn write), leaving the last-written marker. */
  truncateEntries(shardId: ShardId, fromIndex: LogIndex): boolean {
    return this.onBothCopies(shardId, (log) => {
      const at = Math.max(0, fromIndex - log.firstIndex);
      if (at >= log.entries.length) return false;
      log.entries = log.entries.slice(0, at);
      return true;
    });
  }

  corruptSnapshot(shardId: ShardId): boolean {
    return this.onBothCopies(shardId, (log) => {
      if (log.snapshot === undefined) return false;
      const { snapshot, checksum } = log.snapshot;
      log.snapshot = { snapshot: { meta: snapshot.meta, data: flipBit(snapshot.data) }, checksum };
      return true;
    });
  }

  private onBothCopies(shardId: ShardId, damage: (log: GroupLog) => boolean): boolean {
    const changed = damage(this.group(this.durable, shardId));
    damage(this.group(this.live, shardId));
    return changed;
  }

  private write(shardId: ShardId, write: Write): Promise<void> {
    if (this.isFailing) return Promise.reject(new StorageWriteError(`write to group ${shardId} failed`));
    write(this.group(this.live, shardId));
    if (this.isAutoFlush) {
      write(this.group(this.durable, shardId));
      return Promise.resolve();
    }
    return new Promise((resolve) => this.pending.push({ shardId, write, resolve }));
  }

  private group(copies: Map<ShardId, GroupLog>, shardId: ShardId): GroupLog {
    let log = copies.get(shardId);
    if (log === undefined) {
      log = emptyGroup();
      copies.set(shardId, log);
    }
    return log;
  }
}

function emptyGroup(): GroupLog {
  return { hardState: { term: 0 as Term, vote: 0, commit: 0 as LogIndex }, snapshot: undefined, entries: [], firstIndex: 1 as LogIndex, lastIndexWritten: 0 as LogIndex, damageMark: 0 as LogIndex };
}

/** Drops what fails its checksum (the snapshot takes the log with it); returns the first lost index. */
function verify(log: GroupLog): LogIndex | undefined {
  const lost = dropDamaged(log);
  // A shorter log than last written means acknowledged entries are gone: remember how far
  // the log went until a leader brings it back there, across restarts.
  if (lastIndexOf(log) < log.lastIndexWritten) log.damageMark = Math.max(log.damageMark, log.lastIndexWritten) as LogIndex;
  return lost;
}

function dropDamaged(log: GroupLog): LogIndex | undefined {
  if (log.snapshot !== undefined && snapshotChecksum(log.snapshot.snapshot) !== log.snapshot.checksum) {
    log.snapshot = undefined;
    log.entries = [];
    log.firstIndex = 1 as LogIndex;
    return 1 as LogIndex;
  }
  const bad = log.entries.findIndex((stored) => entryChecksum(stored.entry) !== stored.checksum);
  if (bad < 0) return undefined;
  log.entries = log.entries.slice(0, bad);
  return (log.firstIndex + bad) as LogIndex;
}

/** After a write: the new last index is what was written, and a repaired log clears the damage mark. */
function wrote(log: GroupLog): void {
  log.lastIndexWritten = lastIndexOf(log);
  if (log.lastIndexWritten >= log.damageMark) log.damageMark = 0 as LogIndex;
}

function lastIndexOf(log: GroupLog): LogIndex {
  return (log.firstIndex + log.entries.length - 1) as LogIndex;
}

function cloneGroup(log: GroupLog): GroupLog {
  return { ...log, entries: [...log.entries] };
}

function flipBit(data: Uint8Array): Uint8Array {
  const copy = data.byteLength === 0 ? new Uint8Array(1) : new Uint8Array(data);
  copy[0] = (copy[0] ?? 0) ^ 0x01;
  return copy;
}

function entryChecksum(entry: Entry): number {
  return fnv1a(entry.data, fnv1a(Uint8Array.of(entry.type), (entry.term * 31 + entry.index) >>> 0));
}

function snapshotChecksum(snapshot: Snapshot): number {
  return fnv1a(snapshot.data, (snapshot.meta.index * 31 + snapshot.meta.term) >>> 0);
}

function fnv1a(data: Uint8Array, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of data) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

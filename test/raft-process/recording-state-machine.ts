/**
 * The state machine of the process tests: it records the data of every applied normal
 * entry (as text) in order, and snapshots/restores that list. Deterministic, as
 * StateMachine requires, so every replica that applies the same log holds the same list.
 */
import { pack, unpack } from 'msgpackr';
import { EntryType, type Entry, type LogIndex, type Snapshot, type StateMachine } from '../../src/raft/types.js';

const decoder = new TextDecoder();

export class RecordingStateMachine implements StateMachine {
  applied: string[] = [];
  appliedIndex = 0 as LogIndex;

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      this.appliedIndex = entry.index;
      if (entry.type === EntryType.Normal && entry.data.byteLength > 0) this.applied.push(decoder.decode(entry.data));
    }
  }

  snapshot(): { index: LogIndex; data: Uint8Array } {
    return { index: this.appliedIndex, data: pack(this.applied) };
  }

  restore(snapshot: Snapshot): void {
    const applied: unknown = unpack(snapshot.data);
    if (!Array.isArray(applied) || !applied.every((item) => typeof item === 'string')) {
      throw new Error('snapshot of RecordingStateMachine is malformed');
    }
    this.applied = applied;
    this.appliedIndex = snapshot.meta.index;
  }
}

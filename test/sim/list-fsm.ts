/**
 * The simulator's replicated state machine: an append-only list of string values. It
 * reports every applied entry to the checker, which compares what all replicas apply.
 */
import { assert } from '../../src/common/assert.js';
import { type Entry, EntryType, type LogIndex, type Snapshot, type StateMachine } from '../../src/raft/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ListFsm implements StateMachine {
  appliedIndex = 0 as LogIndex;
  values: string[] = [];
  readonly valueSet = new Set<string>();

  constructor(
    private readonly onApply: (entry: Entry) => void,
    private readonly onRestore: (index: LogIndex, values: readonly string[]) => void,
  ) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      // A fresh group starts after its bootstrap entries, which are never handed out.
      const isFirst = this.appliedIndex === 0;
      assert(isFirst || entry.index === this.appliedIndex + 1, () => `applied ${entry.index} after ${this.appliedIndex}`);
      this.appliedIndex = entry.index;
      if (entry.type === EntryType.Normal && entry.data.byteLength > 0) {
        const value = decoder.decode(entry.data);
        this.values.push(value);
        this.valueSet.add(value);
      }
      this.onApply(entry);
    }
  }

  snapshot(): { index: LogIndex; data: Uint8Array } {
    return { index: this.appliedIndex, data: encoder.encode(JSON.stringify(this.values)) };
  }

  restore(snapshot: Snapshot): void {
    const parsed: unknown = JSON.parse(decoder.decode(snapshot.data));
    assert(Array.isArray(parsed), 'snapshot is not a list');
    this.values = parsed.map(String);
    this.valueSet.clear();
    for (const value of this.values) this.valueSet.add(value);
    this.appliedIndex = snapshot.meta.index;
    this.onRestore(snapshot.meta.index, this.values);
  }
}

export function encodeValue(value: string): Uint8Array {
  return encoder.encode(value);
}

export function decodeValue(data: Uint8Array): string {
  return decoder.decode(data);
}

/**
 * Indexed binary min-heap of items by expiry time: O(log n) push, update and removal of
 * any item (each item remembers its slot), so released or renewed claims never leave
 * stale entries behind and the heap holds exactly the live claims.
 */
import { assert } from '../../common/assert.js';

export interface HeapItem {
  expiresMs: number;
  /** Slot in the heap; -1 when not in it. Owned by the heap. */
  heapSlot: number;
}

export class ExpiryHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    assert(item.heapSlot === -1, 'ExpiryHeap item pushed twice');
    item.heapSlot = this.items.length;
    this.items.push(item);
    this.up(item.heapSlot);
  }

  /** Re-positions `item` after its expiresMs changed. */
  update(item: T): void {
    assert(this.items[item.heapSlot] === item, 'ExpiryHeap update of a foreign item');
    this.down(this.up(item.heapSlot));
  }

  remove(item: T): void {
    const slot = item.heapSlot;
    assert(this.items[slot] === item, 'ExpiryHeap remove of a foreign item');
    const last = this.items.pop();
    item.heapSlot = -1;
    if (last === undefined || last === item) return;
    this.items[slot] = last;
    last.heapSlot = slot;
    this.down(this.up(slot));
  }

  private up(slot: number): number {
    let at = slot;
    while (at > 0) {
      const parent = (at - 1) >>> 1;
      if (!this.less(at, parent)) break;
      this.swap(at, parent);
      at = parent;
    }
    return at;
  }

  private down(slot: number): void {
    let at = slot;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < this.items.length && this.less(left, smallest)) smallest = left;
      if (right < this.items.length && this.less(right, smallest)) smallest = right;
      if (smallest === at) return;
      this.swap(at, smallest);
      at = smallest;
    }
  }

  private less(a: number, b: number): boolean {
    return (this.items[a]?.expiresMs ?? Infinity) < (this.items[b]?.expiresMs ?? Infinity);
  }

  private swap(a: number, b: number): void {
    const itemA = this.items[a];
    const itemB = this.items[b];
    assert(itemA !== undefined && itemB !== undefined, 'ExpiryHeap swap out of range');
    this.items[a] = itemB;
    this.items[b] = itemA;
    itemA.heapSlot = b;
    itemB.heapSlot = a;
  }
}

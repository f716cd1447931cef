/**
 * AddressBook merges: exchanged in any order and any number of times, books end equal
 * (merge is commutative, associative, idempotent), an own write wins over everything the
 * writer has seen, a removal (tombstone) is not undone by an older copy, and addresses
 * are validated.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AddressBook, isNodeAddress, type AddressEntry } from './address-book.js';

const entryArb: fc.Arbitrary<AddressEntry> = fc.record({
  nodeId: fc.integer({ min: 1, max: 6 }),
  address: fc.option(fc.integer({ min: 1, max: 4 }).map((port) => `127.0.0.1:${7000 + port}`), { nil: null }),
  counter: fc.integer({ min: 0, max: 8 }),
  writer: fc.integer({ min: 1, max: 4 }),
});
const batchArb = fc.array(entryArb, { maxLength: 12 });

function merged(self: number, ...batches: AddressEntry[][]): AddressEntry[] {
  const book = new AddressBook(self);
  for (const batch of batches) book.merge(batch);
  return book.entries();
}

describe('AddressBook.merge', () => {
  test('ends in the same book whatever the order of the batches', () => {
    fc.assert(fc.property(batchArb, batchArb, batchArb, (a, b, c) => {
      const expected = merged(1, a, b, c);
      expect(merged(2, c, a, b)).toEqual(expected);
      expect(merged(3, b, c, a)).toEqual(expected);
      expect(merged(1, [...a].reverse(), [...c, ...b].reverse())).toEqual(expected);
    }));
  });

  test('is idempotent: merging a book into itself changes nothing', () => {
    fc.assert(fc.property(batchArb, (a) => {
      const book = new AddressBook(1, a);
      expect(book.merge(book.entries())).toEqual([]);
    }));
  });

  test('two books exchanging their entries become equal', () => {
    fc.assert(fc.property(batchArb, batchArb, (a, b) => {
      const left = new AddressBook(1, a);
      const right = new AddressBook(2, b);
      right.merge(left.entries());
      left.merge(right.entries());
      expect(left.entries()).toEqual(right.entries());
    }));
  });

  test('an own write wins over every entry the writer has seen', () => {
    fc.assert(fc.property(batchArb, fc.integer({ min: 1, max: 6 }), (seen, nodeId) => {
      const book = new AddressBook(2, seen);
      const written = book.write(nodeId, '10.0.0.9:7009');
      if (written === undefined) {
        expect(book.address(nodeId)).toBe('10.0.0.9:7009');
        return;
      }
      const other = new AddressBook(3, seen);
      expect(other.merge([written])).toEqual([written]);
      expect(other.address(nodeId)).toBe('10.0.0.9:7009');
    }));
  });

  test('a removal is not undone by an older copy of the entry', () => {
    const origin = new AddressBook(1);
    const added = origin.write(4, '127.0.0.1:7004');
    const removed = origin.write(4, null);
    expect(added).toBeDefined();
    expect(removed).toEqual({ nodeId: 4, address: null, counter: 2, writer: 1 });
    const stale = new AddressBook(2, added === undefined ? [] : [added]);
    stale.merge(origin.entries());
    expect(stale.address(4)).toBeUndefined();
    origin.merge(added === undefined ? [] : [added]);
    expect(origin.peers()).toEqual(new Map());
    expect(origin.get(4)?.address).toBeNull();
  });

  test('writing what the book already says mints no new version', () => {
    const book = new AddressBook(1);
    expect(book.write(2, '127.0.0.1:7002')).toEqual({ nodeId: 2, address: '127.0.0.1:7002', counter: 1, writer: 1 });
    expect(book.write(2, '127.0.0.1:7002')).toBeUndefined();
    expect(book.write(3, null)).toBeUndefined();
  });

  test('peers lists live entries of other nodes only', () => {
    const book = new AddressBook(1, [
      { nodeId: 1, address: '127.0.0.1:7001', counter: 1, writer: 1 },
      { nodeId: 2, address: '127.0.0.1:7002', counter: 2, writer: 1 },
      { nodeId: 3, address: null, counter: 3, writer: 2 },
    ]);
    expect(book.peers()).toEqual(new Map([[2, '127.0.0.1:7002']]));
  });
});

test('isNodeAddress accepts HOST:PORT and refuses the rest', () => {
  for (const good of ['127.0.0.1:7001', 'node-4.zaqar.svc:7000', '[::1]:7001']) expect(isNodeAddress(good)).toBe(true);
  for (const bad of ['', '127.0.0.1', ':7001', '127.0.0.1:0', '127.0.0.1:65536', 'a b:1', 'a:1,b:2', 7001, null]) expect(isNodeAddress(bad)).toBe(false);
});

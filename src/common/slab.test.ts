import { expect, test } from 'vitest';
import { Slab } from './slab.js';

test('carved buffers never share bytes, within a slab, across slabs and when allocated alone', () => {
  const slab = new Slab(1024);
  const carved = [100, 3, 128, 129, 500, 1, 0, 128, 77].flatMap((bytes) => [slab.carve(bytes), slab.carve(bytes)]);
  carved.forEach((buffer, i) => buffer.fill(i));
  carved.forEach((buffer, i) => expect([...buffer].every((byte) => byte === i)).toBe(true));
  expect(carved.map((buffer) => buffer.byteLength)).toEqual([100, 100, 3, 3, 128, 128, 129, 129, 500, 500, 1, 1, 0, 0, 128, 128, 77, 77]);
});

/**
 * Buffers carved one after another from a large shared allocation, for the many small
 * byte strings of the post path (queue-store entries): an ArrayBuffer of their own each
 * (or Node's 8 KiB pool, a new one every two 3 KiB posts) costs more than writing them.
 * A slab is never written again once carved: it lives while any buffer carved from it
 * does (an entry in a command until persisted and applied, a store write until
 * committed), so keep its buffers short-lived, or copy them.
 */
export class Slab {
  private slab = Buffer.allocUnsafeSlow(0);
  private used = 0;

  constructor(private readonly slabBytes: number) {}

  /** A buffer of `bytes` bytes; anything above an eighth of a slab is allocated alone. */
  carve(bytes: number): Buffer {
    if (bytes > this.slabBytes / 8) return Buffer.allocUnsafeSlow(bytes);
    if (this.used + bytes > this.slab.byteLength) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const start = this.used;
    this.used = (start + bytes + 7) & ~7;
    return this.slab.subarray(start, start + bytes);
  }
}

/**
 * Checksums for everything the Raft log keeps on disk, and a self-checking frame for
 * small records (group record, snapshot).
 *
 * Algorithm: CRC-32 (IEEE) from node:zlib. It is native (zlib's table/SIMD code), needs no
 * dependency, detects every single-bit flip and every burst of up to 32 bits, and misses
 * random corruption with probability 2^-32. We guard against media and software faults,
 * not adversaries, so a cryptographic hash would cost more for nothing; CRC-32C would be
 * equally good but node:crypto/zlib do not offer it, and a JS table implementation is
 * several times slower than the native CRC-32.
 *
 * Frame layout: u32 checksum (little endian) over everything after it, u8 format
 * version, then the payload. A frame that is too short, has an unknown version or a
 * wrong checksum opens to `undefined`: the caller treats that as damage.
 */
import { crc32 } from 'node:zlib';

export const frameVersion = 1;
const frameHeaderBytes = 5;

export function checksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

/** Wraps `payload` in a checksummed frame. */
export function sealFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.byteLength);
  frame[4] = frameVersion;
  frame.set(payload, frameHeaderBytes);
  frame.writeUInt32LE(checksum(frame.subarray(4)), 0);
  return frame;
}

/** The payload of a sealed frame, or `undefined` when the frame is damaged. */
export function openFrame(frame: Uint8Array): Uint8Array | undefined {
  if (frame.byteLength < frameHeaderBytes) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame[4] !== frameVersion) return undefined;
  if (view.getUint32(0, true) !== checksum(frame.subarray(4))) return undefined;
  return frame.subarray(frameHeaderBytes);
}

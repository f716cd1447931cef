/**
 * Branded identifiers and the server-generated id format.
 *
 * Message, claim and subscription ids are 24 lowercase hex digits, like the MongoDB
 * ObjectIds of the reference: 4 bytes of creation time (seconds) then 8 random bytes.
 * Ids are minted by the proposer and carried inside commands, so every replica that
 * applies the same log holds the same ids.
 */
import { randomFillSync } from 'node:crypto';

export type ShardId = number & { readonly brand: 'ShardId' };
export type NodeId = number & { readonly brand: 'NodeId' };
export type Term = number & { readonly brand: 'Term' };
export type LogIndex = number & { readonly brand: 'LogIndex' };

const idPattern = /^[0-9a-f]{24}$/;

// Ids are minted for every posted message: their random bytes come from a pool refilled
// 4 KiB at a time (one CSPRNG call per 512 ids instead of one per id).
const randomPool = Buffer.alloc(4096);
let randomPoolOffset = randomPool.length;

function randomHex8(): string {
  if (randomPoolOffset + 8 > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + 8);
  randomPoolOffset += 8;
  return hex;
}

export function newObjectId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomHex8();
}

/** Malformed ids are never a 400 for messages (they are "not found"); claims use this for the 400 case. */
export function isWellFormedId(id: string): boolean {
  return idPattern.test(id);
}

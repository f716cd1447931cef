/**
 * Branded identifiers and the server-generated id format.
 *
 * Message, claim and subscription ids are 24 lowercase hex digits, like the MongoDB
 * ObjectIds of the reference: 4 bytes of creation time (seconds) then 8 random bytes.
 * Ids are minted by the proposer and carried inside commands, so every replica that
 * applies the same log holds the same ids.
 *
 * A message id may instead be derived from the message's seq (`derivedMessageId`): the
 * seq's 12 hex digits, then 12 random ones (its `tail`) that its post carries. Every
 * replica computes it at apply, and a lookup by id reads the seq back from the id
 * (`seqInMessageId`) instead of keeping an id → seq index. The tail keeps ids
 * unguessable and tells a message from one of an earlier queue of the same name.
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

function randomHex(bytes: number): string {
  if (randomPoolOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + bytes);
  randomPoolOffset += bytes;
  return hex;
}

export function newObjectId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomHex(8);
}

const seqDigits = 12;
/** Seqs at or above this wrap in a derived id (it then no longer leads to its message: see `seqInMessageId`). */
export const derivedSeqLimit = 2 ** (4 * seqDigits);

/** 12 random hex digits, the tail of a derived message id. */
export function newIdTail(): string {
  return randomHex(seqDigits / 2);
}

/** `count` tails as newIdTail mints them, up to 64 from one conversion to hex. */
export function newIdTails(count: number): string[] {
  const tails: string[] = [];
  while (tails.length < count) {
    const batch = Math.min(count - tails.length, 64);
    const hex = randomHex(batch * (seqDigits / 2));
    for (let i = 0; i < batch; i++) tails.push(hex.slice(i * seqDigits, (i + 1) * seqDigits));
  }
  return tails;
}

export function derivedMessageId(seq: number, tail: string): string {
  return (seq % derivedSeqLimit).toString(16).padStart(seqDigits, '0') + tail;
}

/**
 * The seq a 24-hex-digit id would be derived from, or undefined for any other string.
 * A hint only: an id minted otherwise reads as some seq too, so the message found there
 * must also hold the id's tail (and a message whose seq wrapped is found by index).
 */
export function seqInMessageId(id: string): number | undefined {
  return idPattern.test(id) ? Number.parseInt(id.slice(0, seqDigits), 16) : undefined;
}

/** Malformed ids are never a 400 for messages (they are "not found"); claims use this for the 400 case. */
export function isWellFormedId(id: string): boolean {
  return idPattern.test(id);
}

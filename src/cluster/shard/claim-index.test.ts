/**
 * ClaimIndex against a naive model: random sequences of posts, deletes, claims,
 * renewals, releases and clock advances must leave both with the same free messages
 * (in seq order), the same claims, the same claim of each message, and the same claim
 * candidates. Small chunk-crossing sizes are covered because the model ops post
 * hundreds of messages.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClaimIndex } from './claim-index.js';
import type { SeqEntry } from './seq-set.js';

type Op =
  | { kind: 'post'; count: number; ttlMs: number; delayMs: number }
  | { kind: 'removeFree'; pick: number }
  | { kind: 'claim'; limit: number; ttlMs: number }
  | { kind: 'renew'; pick: number; ttlMs: number }
  | { kind: 'release'; pick: number }
  | { kind: 'removeClaimed'; pick: number; pickSeq: number }
  | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('post' as const), count: fc.integer({ min: 1, max: 300 }), ttlMs: fc.integer({ min: 1, max: 500 }), delayMs: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('removeFree' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('claim' as const), limit: fc.integer({ min: 1, max: 20 }), ttlMs: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('renew' as const), pick: fc.nat(), ttlMs: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('removeClaimed' as const), pick: fc.nat(), pickSeq: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 200 }) }),
);

interface ModelClaim {
  expiresMs: number;
  messages: SeqEntry[];
}

/** The obvious implementation: a sorted array and a map, scanned in full. */
class NaiveClaimModel {
  free: SeqEntry[] = [];
  claims = new Map<string, ModelClaim>();

  expire(nowMs: number): void {
    for (const [id, claim] of [...this.claims]) {
      if (claim.expiresMs <= nowMs) {
        this.free.push(...claim.messages);
        this.claims.delete(id);
      }
    }
    this.free.sort((a, b) => a.seq - b.seq);
  }
  candidates(nowMs: number, limit: number): SeqEntry[] {
    return this.free.filter((e) => e.expiresMs > nowMs && e.visibleMs <= nowMs).slice(0, limit);
  }
}

const q = 'p\u0000q';

function snapshot(index: ClaimIndex): { free: SeqEntry[]; claims: [string, ModelClaim][] } {
  const free = [...(index.free(q)?.entries() ?? [])];
  const claims = [...index.claims(q).values()]
    .map((c): [string, ModelClaim] => [c.id, { expiresMs: c.expiresMs, messages: [...c.messages] }])
    .sort((a, b) => a[0].localeCompare(b[0]));
  return { free, claims };
}

function modelSnapshot(model: NaiveClaimModel): { free: SeqEntry[]; claims: [string, ModelClaim][] } {
  return { free: [...model.free], claims: [...model.claims].sort((a, b) => a[0].localeCompare(b[0])) };
}

function run(ops: readonly Op[]): void {
  const real = new ClaimIndex();
  const model = new NaiveClaimModel();
  let nowMs = 1000;
  let nextSeq = 1;
  let nextClaim = 1;
  for (const op of ops) {
    real.expireClaims(nowMs);
    model.expire(nowMs);
    switch (op.kind) {
      case 'post':
        for (let i = 0; i < op.count; i++) {
          const entry = { seq: nextSeq++, expiresMs: nowMs + op.ttlMs, visibleMs: nowMs + op.delayMs };
          real.addFree(q, entry);
          model.free.push(entry);
        }
        break;
      case 'removeFree': {
        const victim = model.free[op.pick % Math.max(1, model.free.length)];
        if (victim === undefined) break;
        expect(real.removeFree(q, victim.seq)).toBe(true);
        model.free = model.free.filter((e) => e.seq !== victim.seq);
        break;
      }
      case 'claim': {
        const found = real.candidates(q, nowMs, op.limit);
        expect(found).toEqual(model.candidates(nowMs, op.limit));
        if (found.length === 0) break;
        const id = `c${nextClaim++}`;
        real.addClaim(q, { id, expiresMs: nowMs + op.ttlMs, updatedMs: nowMs, ttlSeconds: 1, messages: found });
        const taken = new Set(found.map((e) => e.seq));
        model.free = model.free.filter((e) => !taken.has(e.seq));
        model.claims.set(id, { expiresMs: nowMs + op.ttlMs, messages: found });
        break;
      }
      case 'renew':
      case 'release':
      case 'removeClaimed': {
        const ids = [...model.claims.keys()].sort();
        const id = ids[op.pick % Math.max(1, ids.length)];
        const claim = id === undefined ? undefined : real.claim(q, id);
        const modelClaim = id === undefined ? undefined : model.claims.get(id);
        if (id === undefined || claim === undefined || modelClaim === undefined) break;
        if (op.kind === 'renew') {
          real.renew(claim, { expiresMs: nowMs + op.ttlMs, updatedMs: nowMs, ttlSeconds: 1, graceSeconds: 0 });
          modelClaim.expiresMs = nowMs + op.ttlMs;
        } else if (op.kind === 'release') {
          real.release(claim);
          model.free.push(...modelClaim.messages);
          model.free.sort((a, b) => a.seq - b.seq);
          model.claims.delete(id);
        } else {
          const victim = modelClaim.messages[op.pickSeq % modelClaim.messages.length];
          if (victim === undefined) break;
          expect(real.removeClaimed(claim, victim.seq)).toBe(true);
          modelClaim.messages = modelClaim.messages.filter((m) => m.seq !== victim.seq);
          if (modelClaim.messages.length === 0) model.claims.delete(id);
        }
        break;
      }
      case 'advance':
        nowMs += op.ms;
        break;
    }
    expect(snapshot(real)).toEqual(modelSnapshot(model));
    expect(real.claimCount).toBe(model.claims.size);
    // The claim maps exist only while the queue has a claim (memory of idle queues).
    expect(real.queuesWithClaims).toBe(model.claims.size > 0 ? 1 : 0);
    // A message's claim is read from the index: every seq ever posted answers the claim holding it, or none.
    const holders = new Map<number, string>();
    for (const [id, claim] of model.claims) for (const message of claim.messages) holders.set(message.seq, id);
    for (let seq = 1; seq < nextSeq; seq++) expect(real.holder(q, seq)?.id).toBe(holders.get(seq));
    // Probed at every step, so the expiry floor it keeps is exercised across adds, claims and releases.
    const expired = model.free.filter((e) => e.expiresMs <= nowMs).map((e) => ({ queueKey: q, seq: e.seq }));
    expect(real.expiredFree(nowMs, 3)).toEqual(expired.slice(0, 3));
    expect(real.expiredFree(nowMs, Number.MAX_SAFE_INTEGER)).toEqual(expired);
    // "Nothing to claim" only when a claim would find nothing and expire nothing; "maybe" otherwise.
    const wouldChange = model.candidates(nowMs, 1).length > 0 || [...model.claims.values()].some((c) => c.expiresMs <= nowMs);
    if (wouldChange) expect(real.mayClaim(q, nowMs)).toBe(true);
    else if (real.mayClaim(q, nowMs)) expect(model.free.length).toBeGreaterThanOrEqual(64);
  }
}

describe('ClaimIndex', () => {
  test('ClaimIndex matches a naive model over random operation sequences', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => run(ops)), { numRuns: 150 });
  });

  test('ClaimIndex.candidates skips expired, delayed and claimed messages', () => {
    const index = new ClaimIndex();
    index.addFree(q, { seq: 1, expiresMs: 50, visibleMs: 0 });
    index.addFree(q, { seq: 2, expiresMs: 500, visibleMs: 200 });
    index.addFree(q, { seq: 3, expiresMs: 500, visibleMs: 0 });
    index.addFree(q, { seq: 4, expiresMs: 500, visibleMs: 0 });
    index.addClaim(q, { id: 'a', expiresMs: 300, updatedMs: 100, ttlSeconds: 1, messages: [{ seq: 3, expiresMs: 500, visibleMs: 0 }] });
    expect(index.candidates(q, 100, 10).map((e) => e.seq)).toEqual([4]);
    index.expireClaims(300);
    expect(index.candidates(q, 300, 10).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(index.claimCount).toBe(0);
  });

  test('ClaimIndex.mayClaim is false only when a claim would neither take a message nor expire a claim', () => {
    const index = new ClaimIndex();
    const other = 'p\u0000other';
    expect(index.mayClaim(q, 100)).toBe(false);
    index.addFree(q, { seq: 1, expiresMs: 50, visibleMs: 0 });
    index.addFree(q, { seq: 2, expiresMs: 500, visibleMs: 200 });
    expect(index.mayClaim(q, 100)).toBe(false);
    expect(index.mayClaim(q, 200)).toBe(true);
    // A lapsed claim of another queue: the claim's apply would expire it.
    index.addFree(other, { seq: 1, expiresMs: 1000, visibleMs: 0 });
    index.addClaim(other, { id: 'a', expiresMs: 150, updatedMs: 0, ttlSeconds: 1, messages: index.candidates(other, 0, 1) });
    expect(index.mayClaim(q, 100)).toBe(false);
    expect(index.mayClaim(q, 150)).toBe(true);
    index.expireClaims(150);
    expect(index.mayClaim(q, 150)).toBe(false);
    // Behind many delayed messages it stops reading and answers "maybe".
    for (let seq = 3; seq < 200; seq++) index.addFree(q, { seq, expiresMs: 500, visibleMs: 300 });
    expect(index.mayClaim(q, 150)).toBe(true);
  });

  test('ClaimIndex.expiredFree lists queues in key order and finds what came due after a scan found nothing', () => {
    const index = new ClaimIndex();
    const [a, b] = ['p\u0000a', 'p\u0000b'];
    index.addFree(b, { seq: 1, expiresMs: 100, visibleMs: 0 });
    index.addFree(a, { seq: 1, expiresMs: 300, visibleMs: 0 });
    expect(index.expiredFree(50, 10)).toEqual([]);
    index.addFree(a, { seq: 2, expiresMs: 60, visibleMs: 0 });
    expect(index.expiredFree(100, 10)).toEqual([{ queueKey: a, seq: 2 }, { queueKey: b, seq: 1 }]);
    expect(index.expiredFree(300, 10)).toEqual([{ queueKey: a, seq: 1 }, { queueKey: a, seq: 2 }, { queueKey: b, seq: 1 }]);
  });

  test('ClaimIndex.dropQueue returns free and claimed seqs and forgets the claims', () => {
    const index = new ClaimIndex();
    for (let seq = 1; seq <= 5; seq++) index.addFree(q, { seq, expiresMs: 1000, visibleMs: 0 });
    index.addClaim(q, { id: 'a', expiresMs: 300, updatedMs: 0, ttlSeconds: 1, messages: index.candidates(q, 0, 2) });
    expect(index.dropQueue(q)).toEqual([1, 2, 3, 4, 5]);
    expect(index.claimCount).toBe(0);
    expect(index.free(q)).toBeUndefined();
  });

  test('ClaimIndex keeps claim maps for a queue only while it has a claim, and forgets a queue left with nothing', () => {
    const index = new ClaimIndex();
    for (let seq = 1; seq <= 4; seq++) index.addFree(q, { seq, expiresMs: 1000, visibleMs: 0 });
    expect(index.queuesWithClaims).toBe(0);
    index.addClaim(q, { id: 'a', expiresMs: 300, updatedMs: 0, ttlSeconds: 1, messages: index.candidates(q, 0, 2) });
    index.addClaim(q, { id: 'b', expiresMs: 400, updatedMs: 0, ttlSeconds: 1, messages: index.candidates(q, 0, 1) });
    expect(index.queuesWithClaims).toBe(1);
    index.removeClaimed(index.claim(q, 'a')!, 1);
    index.removeClaimed(index.claim(q, 'a')!, 2);
    expect(index.queuesWithClaims).toBe(1); // b still holds seq 3
    expect(index.expireClaims(400).map((claim) => claim.id)).toEqual(['b']);
    expect(index.queuesWithClaims).toBe(0);
    expect([...index.claims(q).keys()]).toEqual([]);
    expect(index.holder(q, 3)).toBeUndefined();
    expect([...(index.free(q)?.entries() ?? [])].map((entry) => entry.seq)).toEqual([3, 4]);
    for (const seq of [3, 4]) index.removeFree(q, seq);
    expect(index.free(q)).toBeUndefined();
  });

  test('ClaimIndex.heldSeqOf finds a held message by the id its claim took it under, and nothing else', () => {
    const index = new ClaimIndex();
    for (let seq = 1; seq <= 4; seq++) index.addFree(q, { seq, expiresMs: 1000, visibleMs: 0 });
    const taken = index.candidates(q, 0, 3).map((entry) => ({ ...entry, id: `m${entry.seq}` }));
    index.addClaim(q, { id: 'a', expiresMs: 300, updatedMs: 0, ttlSeconds: 1, messages: [taken[2]!, taken[0]!, taken[1]!] });
    expect([1, 2, 3].map((seq) => index.heldSeqOf(q, `m${seq}`, seq))).toEqual([1, 2, 3]);
    expect(index.heldSeqOf(q, 'm1', 2)).toBeUndefined();
    expect(index.heldSeqOf(q, 'm4', 4)).toBeUndefined(); // free
    expect(index.heldSeqOf(q, 'm1', undefined)).toBeUndefined();
    // Held without a known id (rebuilt from storage): not found here.
    index.restoreClaimed(q, { id: 'b', expiresMs: 300, updatedMs: 0, ttlSeconds: 1 }, { seq: 9, expiresMs: 1000, visibleMs: 0 });
    expect(index.heldSeqOf(q, 'm9', 9)).toBeUndefined();
    index.removeClaimed(index.claim(q, 'a')!, 2);
    expect(index.heldSeqOf(q, 'm2', 2)).toBeUndefined();
    expect(index.heldSeqOf(q, 'm3', 3)).toBe(3);
  });
});

/**
 * Seeded generators for the fuzzers: one PRNG (mulberry32) drives every choice, so a
 * seed replays the same inputs. Inputs mix valid grammar (routes, headers, envelopes
 * of zaqar-api-v2.md and zaqar-websocket.md) with mutations: wrong types, huge
 * numbers, deep nesting, truncation, random bytes.
 */
export class FuzzRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** A deterministic UUID-shaped string. */
  uuid(): string {
    const hex = [...this.bytes(16)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** Strings a parser might choke on. */
const nastyStrings = ['', ' ', '..', '%', '%00', '%zz', '\u0000', 'é', '😀', 'a'.repeat(70), 'a'.repeat(300), '-1', '0', 'null',
  'true', '1e309', '9223372036854775808', '[', '{', '"', '\\', '/', '?', '#', ',', 'ids=', '<script>'];

export function fuzzString(rng: FuzzRandom): string {
  switch (rng.int(4)) {
    case 0: return rng.pick(nastyStrings);
    case 1: return `q${rng.int(5)}`;
    case 2: return String(rng.int(100) - 10);
    default: return [...rng.bytes(rng.int(12))].map((b) => String.fromCharCode(32 + (b % 95))).join('');
  }
}

/** A JSON value, sometimes the right shape for Zaqar bodies, sometimes not. */
export function fuzzJson(rng: FuzzRandom, depth = 0): unknown {
  const roll = rng.int(depth > 3 ? 6 : 10);
  switch (roll) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 60, 300, 3600, 1.5, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER]);
    case 3: return fuzzString(rng);
    case 4: return rng.int(100000);
    case 5: return rng.pick(['ttl', 'grace', 'limit', 'body', 'messages']);
    case 6: return Array.from({ length: rng.int(4) }, () => fuzzJson(rng, depth + 1));
    case 7: return { messages: Array.from({ length: rng.int(3) }, () => ({ body: fuzzJson(rng, depth + 2), ttl: fuzzJson(rng, depth + 2) })) };
    case 8: return { ttl: fuzzJson(rng, depth + 1), grace: fuzzJson(rng, depth + 1) };
    default: {
      const doc: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) doc[fuzzString(rng)] = fuzzJson(rng, depth + 1);
      return doc;
    }
  }
}

/** Deeply nested arrays: the recursion limit of a naive parser. */
export function deepJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

export function anyClientId(rng: FuzzRandom): string {
  return rng.chance(0.85) ? rng.uuid() : rng.pick(['', 'x', rng.uuid().replace(/-/g, ''), `{${rng.uuid()}}`, 'not-a-uuid']);
}

/**
 * A bounded cache of token validations (keystonemiddleware's `token_cache_time`): a
 * validated token is trusted again without asking Keystone for `ttlMs`, and never past
 * its own expiry. Keys are SHA-256 digests, so the cache holds no usable token. At
 * `entriesMax` the oldest entry is evicted (Map iteration order is insertion order).
 * A revoked token therefore keeps working here for at most `ttlMs`: that is the price
 * of the cache, and why the TTL is configurable.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { Identity } from './auth-strategy.js';

interface Entry {
  readonly identity: Identity;
  readonly cachedAtMs: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock, private readonly options: { readonly ttlMs: number; readonly entriesMax: number }) {}

  get(token: string): Identity | undefined {
    const key = digest(token);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const nowMs = this.clock.nowMs();
    if (nowMs - entry.cachedAtMs >= this.options.ttlMs || nowMs >= entry.identity.expiresAtMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.identity;
  }

  set(token: string, identity: Identity): void {
    if (this.options.ttlMs <= 0 || this.options.entriesMax <= 0) return;
    const key = digest(token);
    this.entries.delete(key);
    while (this.entries.size >= this.options.entriesMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { identity, cachedAtMs: this.clock.nowMs() });
  }

  get size(): number {
    return this.entries.size;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

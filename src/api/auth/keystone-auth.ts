/**
 * `auth_strategy = keystone`: validates client tokens against Keystone v3 the way
 * keystonemiddleware's auth_token does — `GET /v3/auth/tokens` with the token in
 * `X-Subject-Token` and the service's own token in `X-Auth-Token` — and takes the
 * project and role names from the answer. The service token comes from the configured
 * service credentials (password method, project scope), is reused until shortly before
 * it expires, and is fetched again once if Keystone refuses it. Validations are cached
 * (TokenCache); failures are not, so a fixed typo is not held against a client.
 *
 * Keystone answers 404 for an unknown, expired or revoked subject token and 401 for an
 * unusable one: both are AuthenticationFailed. A project-less (unscoped or domain)
 * token is refused too, since every Zaqar resource belongs to a project. Anything else
 * (Keystone down, 5xx) is `service_unavailable`, never a pass.
 */
import type { Clock } from '../../common/clock.js';
import { BrokerError } from '../errors.js';
import { AuthenticationFailed, type AuthStrategy, type Identity } from './auth-strategy.js';
import { TokenCache } from './token-cache.js';

export interface KeystoneOptions {
  /** Keystone's base URL, e.g. `http://keystone:5000` (with or without `/v3`). */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
  /** How long a validation is trusted without asking Keystone again (`token_cache_time`). */
  readonly tokenCacheSeconds: number;
  readonly tokenCacheEntriesMax: number;
  /** Per Keystone request. */
  readonly requestTimeoutMs: number;
}

/** Re-fetch the service token this long before Keystone would expire it. */
const serviceTokenMarginMs = 60_000;

interface TokenDocument {
  readonly token?: {
    readonly expires_at?: string;
    readonly project?: { readonly id?: string };
    readonly roles?: ReadonlyArray<{ readonly name?: string }>;
    readonly user?: { readonly id?: string };
  };
}

export class KeystoneAuth implements AuthStrategy {
  readonly name = 'keystone';
  readonly wwwAuthenticate: string;
  private readonly cache: TokenCache;
  private readonly v3Url: string;
  private serviceToken: { readonly token: string; readonly expiresAtMs: number } | undefined;
  private serviceTokenPending: Promise<string> | undefined;

  constructor(private readonly options: KeystoneOptions, private readonly clock: Clock) {
    this.cache = new TokenCache(clock, { ttlMs: options.tokenCacheSeconds * 1000, entriesMax: options.tokenCacheEntriesMax });
    this.v3Url = `${options.authUrl.replace(/\/+$/, '').replace(/\/v3$/, '')}/v3`;
    this.wwwAuthenticate = `Keystone uri="${this.v3Url}"`;
  }

  async authenticate(token: string | undefined): Promise<Identity> {
    if (token === undefined || token.trim() === '') throw new AuthenticationFailed('no token');
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    let response = await this.validate(token, await this.currentServiceToken());
    if (response.status === 401 || response.status === 403) {
      // Our own token may have been revoked or expired early: fetch a new one, once.
      this.serviceToken = undefined;
      response = await this.validate(token, await this.currentServiceToken());
    }
    if (response.status === 404 || response.status === 401) throw new AuthenticationFailed(`token refused (${response.status})`);
    if (response.status !== 200) throw unavailable(`Keystone answered ${response.status}`);
    const identity = identityOf((await response.json()) as TokenDocument);
    if (identity.expiresAtMs <= this.clock.nowMs()) throw new AuthenticationFailed('token expired');
    this.cache.set(token, identity);
    return identity;
  }

  private async validate(token: string, serviceToken: string): Promise<Response> {
    return this.request(`${this.v3Url}/auth/tokens`, {
      method: 'GET',
      headers: { 'X-Auth-Token': serviceToken, 'X-Subject-Token': token, Accept: 'application/json' },
    });
  }

  private currentServiceToken(): Promise<string> {
    const current = this.serviceToken;
    if (current !== undefined && current.expiresAtMs - serviceTokenMarginMs > this.clock.nowMs()) return Promise.resolve(current.token);
    // One fetch at a time: a burst of requests after expiry shares it.
    this.serviceTokenPending ??= this.fetchServiceToken().finally(() => {
      this.serviceTokenPending = undefined;
    });
    return this.serviceTokenPending;
  }

  private async fetchServiceToken(): Promise<string> {
    const { username, password, projectName, userDomainName, projectDomainName } = this.options;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: username, domain: { name: userDomainName }, password } } },
        scope: { project: { name: projectName, domain: { name: projectDomainName } } },
      },
    };
    const response = await this.request(`${this.v3Url}/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
    });
    const token = response.headers.get('x-subject-token');
    if (response.status !== 201 || token === null) throw unavailable(`Keystone refused the service credentials (${response.status})`);
    const document = (await response.json()) as TokenDocument;
    const expiresAtMs = Date.parse(document.token?.expires_at ?? '');
    this.serviceToken = { token, expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : this.clock.nowMs() + serviceTokenMarginMs };
    return token;
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.requestTimeoutMs) });
    } catch (cause) {
      throw unavailable(`Keystone at ${this.v3Url} unreachable`, cause);
    }
  }
}

function identityOf(document: TokenDocument): Identity {
  const token = document.token;
  const project = token?.project?.id;
  if (project === undefined || project === '') throw new AuthenticationFailed('token not scoped to a project');
  const expiresAtMs = Date.parse(token?.expires_at ?? '');
  if (!Number.isFinite(expiresAtMs)) throw new AuthenticationFailed('token without expiry');
  const roles = (token?.roles ?? []).map((role) => role.name).filter((name): name is string => typeof name === 'string');
  return { project, roles, userId: token?.user?.id ?? '', expiresAtMs };
}

function unavailable(why: string, cause?: unknown): BrokerError {
  return new BrokerError('service_unavailable', `Authentication service unavailable: ${why}. Please try again in a few seconds.`,
    cause === undefined ? {} : { cause });
}

/**
 * The security part of the node configuration: client authentication
 * (`auth_strategy`, `[keystone_authtoken]`), TLS on the client port (`[tls]`) and
 * mutual TLS on the cluster port (`[cluster_tls]`). config.ts hands the flattened
 * option record here (section options arrive as `section.option`); every value is
 * checked so a half-configured security setting fails the start instead of silently
 * running without it.
 */
import type { KeystoneOptions } from './api/auth/keystone-auth.js';

export interface TlsFilesConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

export interface SecurityConfig {
  /** `auth_strategy = keystone`; undefined: noauth (the default, logged as a warning). */
  readonly keystone?: KeystoneOptions;
  /** HTTPS/WSS on the client port; `caFile` also demands client certificates. */
  readonly tls?: TlsFilesConfig;
  /** Mutual TLS between members; all three files required. */
  readonly clusterTls?: Required<TlsFilesConfig>;
  /** `http_body_timeout_seconds`: a request body must arrive within this (slow-client protection); default 30. */
  readonly bodyTimeoutSeconds?: number;
  /** `http_requests_in_flight_max`: HTTP requests the node works on at once; beyond it 503 (default 10000). */
  readonly httpRequestsInFlightMax?: number;
}

/** Option name → kind, for config.ts's list of known options. */
export const securityOptionKinds = {
  auth_strategy: 'string',
  'keystone_authtoken.auth_url': 'string',
  'keystone_authtoken.username': 'string',
  'keystone_authtoken.password': 'string',
  'keystone_authtoken.project_name': 'string',
  'keystone_authtoken.user_domain_name': 'string',
  'keystone_authtoken.project_domain_name': 'string',
  'keystone_authtoken.token_cache_time': 'nonNegative',
  'keystone_authtoken.token_cache_entries_max': 'nonNegative',
  'keystone_authtoken.http_connect_timeout': 'positive',
  'tls.cert_file': 'string',
  'tls.key_file': 'string',
  'tls.ca_file': 'string',
  'cluster_tls.cert_file': 'string',
  'cluster_tls.key_file': 'string',
  'cluster_tls.ca_file': 'string',
  http_body_timeout_seconds: 'positive',
  http_requests_in_flight_max: 'positive',
} as const;

type Fail = (message: string) => Error;

export function loadSecurityConfig(file: Readonly<Record<string, unknown>>, fail: Fail): SecurityConfig {
  const text = (name: string): string | undefined => {
    const value = file[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw fail(`option ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  };
  const strategy = text('auth_strategy') ?? 'noauth';
  if (strategy !== 'noauth' && strategy !== 'keystone') throw fail(`option auth_strategy must be "noauth" or "keystone", got "${strategy}"`);
  const tls = tlsFiles('tls', text, fail);
  const clusterTls = tlsFiles('cluster_tls', text, fail);
  if (clusterTls !== undefined && clusterTls.caFile === undefined) throw fail('option cluster_tls.ca_file is required with cluster_tls');
  const bodyTimeoutSeconds = positiveOption(file, 'http_body_timeout_seconds', fail);
  const httpRequestsInFlightMax = positiveOption(file, 'http_requests_in_flight_max', fail);
  return {
    ...(bodyTimeoutSeconds === undefined ? {} : { bodyTimeoutSeconds }),
    ...(httpRequestsInFlightMax === undefined ? {} : { httpRequestsInFlightMax }),
    ...(strategy === 'keystone' ? { keystone: keystoneOptions(file, text, fail) } : {}),
    ...(tls === undefined ? {} : { tls }),
    ...(clusterTls?.caFile === undefined ? {} : { clusterTls: { ...clusterTls, caFile: clusterTls.caFile } }),
  };
}

function positiveOption(file: Readonly<Record<string, unknown>>, name: string, fail: Fail): number | undefined {
  const value = file[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw fail(`option ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function tlsFiles(section: string, text: (name: string) => string | undefined, fail: Fail): TlsFilesConfig | undefined {
  const certFile = text(`${section}.cert_file`);
  const keyFile = text(`${section}.key_file`);
  const caFile = text(`${section}.ca_file`);
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw fail(`options ${section}.cert_file and ${section}.key_file go together`);
  return { certFile, keyFile, ...(caFile === undefined ? {} : { caFile }) };
}

function keystoneOptions(file: Readonly<Record<string, unknown>>, text: (name: string) => string | undefined, fail: Fail): KeystoneOptions {
  const required = (name: string): string => {
    const value = text(`keystone_authtoken.${name}`);
    if (value === undefined) throw fail(`option keystone_authtoken.${name} is required with auth_strategy = keystone`);
    return value;
  };
  const count = (name: string, fallback: number, min: number): number => {
    const value = file[`keystone_authtoken.${name}`] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw fail(`option keystone_authtoken.${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    authUrl: required('auth_url'),
    username: required('username'),
    password: required('password'),
    projectName: required('project_name'),
    userDomainName: text('keystone_authtoken.user_domain_name') ?? 'Default',
    projectDomainName: text('keystone_authtoken.project_domain_name') ?? 'Default',
    tokenCacheSeconds: count('token_cache_time', 300, 0),
    tokenCacheEntriesMax: count('token_cache_entries_max', 10_000, 0),
    requestTimeoutMs: count('http_connect_timeout', 10, 1) * 1000,
  };
}

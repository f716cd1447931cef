/**
 * The settings the api reads, named after the Zaqar options they mirror
 * (zaqar-api-v2.md §2, zaqar-semantics.md §12) with units in the names. Config loading
 * (src/config.ts) fills this; tests build it with `defaultApiOptions`.
 */
export interface ApiOptions {
  readonly defaultMessageTtlSeconds: number;
  readonly defaultMessageDelaySeconds: number;
  readonly defaultClaimTtlSeconds: number;
  readonly defaultClaimGraceSeconds: number;
  readonly maxQueuesPerPage: number;
  readonly maxMessagesPerPage: number;
  readonly maxMessagesPerClaimOrPop: number;
  readonly maxQueueMetadataBytes: number;
  readonly maxMessagesPostSizeBytes: number;
  readonly maxMessageTtlSeconds: number;
  readonly maxMessageDelaySeconds: number;
  readonly maxClaimTtlSeconds: number;
  readonly maxClaimGraceSeconds: number;
  readonly clientIdUuidSafe: 'strict' | 'off';
  readonly minLengthClientId: number;
  readonly maxLengthClientId: number;
  readonly messageDeleteWithClaimId: boolean;
  /** Exposes `/v2/health` (and the admin entries of the home document). */
  readonly adminMode: boolean;
  /** `[signed_url] secret_key`; undefined: sharing answers 400. */
  readonly signedUrlSecretKey: string | undefined;
  /**
   * `enable_deprecated_api_versions`: legacy versions ("1", "1.1") listed in `GET /`
   * for clients that look for them; only v2 is served.
   */
  readonly deprecatedApiVersions: readonly string[];
  /** `max_queues_per_project` (beyond Zaqar, quotas.ts); undefined: no limit. */
  readonly maxQueuesPerProject?: number;
  /** `max_messages_per_project` (beyond Zaqar, quotas.ts); undefined: no limit. */
  readonly maxMessagesPerProject?: number;
}

export const defaultApiOptions: ApiOptions = {
  defaultMessageTtlSeconds: 3600,
  defaultMessageDelaySeconds: 0,
  defaultClaimTtlSeconds: 300,
  defaultClaimGraceSeconds: 60,
  maxQueuesPerPage: 20,
  maxMessagesPerPage: 20,
  maxMessagesPerClaimOrPop: 20,
  maxQueueMetadataBytes: 65536,
  maxMessagesPostSizeBytes: 262144,
  maxMessageTtlSeconds: 1209600,
  maxMessageDelaySeconds: 900,
  maxClaimTtlSeconds: 43200,
  maxClaimGraceSeconds: 43200,
  clientIdUuidSafe: 'strict',
  minLengthClientId: 10,
  maxLengthClientId: 36,
  messageDeleteWithClaimId: false,
  adminMode: false,
  signedUrlSecretKey: undefined,
  deprecatedApiVersions: [],
};

/** The largest body any route accepts: transports stop reading beyond it. */
export function maxBodyBytes(options: ApiOptions): number {
  return Math.max(options.maxMessagesPostSizeBytes, options.maxQueueMetadataBytes, 65536);
}

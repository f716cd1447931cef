/**
 * Queue metadata rules (zaqar-api-v2.md §4, §5.4): validation of the reserved `_` keys,
 * the display rule that fills missing or falsy reserved keys with their defaults, and
 * the JSON-patch subset PATCH accepts. Stored metadata never contains the displayed
 * defaults; they are added on the way out only.
 */
import { BrokerError } from './errors.js';
import type { JsonValue, ParsedJson } from './json-body.js';
import type { ApiOptions } from './api-options.js';
import type { QueueMetadata } from '../cluster/records.js';
import { isPlainObject } from './validation.js';
import { isTruthy } from '../common/truthiness.js';

const messageTtlMinSeconds = 60;

/** The seven reserved keys the display rule fills, with their displayed defaults. */
export function reservedDefaults(options: ApiOptions): Record<string, JsonValue> {
  return {
    _max_messages_post_size: options.maxMessagesPostSizeBytes,
    _default_message_ttl: options.defaultMessageTtlSeconds,
    _default_message_delay: options.defaultMessageDelaySeconds,
    _dead_letter_queue: null,
    _dead_letter_queue_messages_ttl: null,
    _max_claim_count: null,
    _enable_encrypt_messages: false,
  };
}

export { isTruthy };

export function displayMetadata(stored: QueueMetadata | null, options: ApiOptions): Record<string, JsonValue> {
  const shown: Record<string, JsonValue> = { ...(stored ?? {}) } as Record<string, JsonValue>;
  for (const [key, value] of Object.entries(reservedDefaults(options))) {
    if (!isTruthy(shown[key])) shown[key] = value;
  }
  return shown;
}

/** Tells whether a metadata value was written as an int (not a float literal). */
export type IntCheck = (key: string) => boolean;

/**
 * Validates the reserved keys like the reference's `queue_metadata_putting`: a value is
 * type-checked only when truthy; range checks apply whenever the value is not null.
 */
export function validateReservedMetadata(metadata: Record<string, unknown>, options: ApiOptions, isInt: IntCheck,
  code: 'invalid_api_request' | 'invalid_request_body'): void {
  const fail = (description: string): BrokerError => new BrokerError(code, description);
  const intOrFail = (key: string): number | null => {
    const value = metadata[key];
    if (value === undefined || value === null) return null;
    if (isTruthy(value) && !isInt(key)) throw fail(`${key} must be integer.`);
    return typeof value === 'number' ? value : value === true ? 1 : 0;
  };
  const ttl = intOrFail('_default_message_ttl');
  if (ttl !== null && !(ttl >= messageTtlMinSeconds && ttl <= options.maxMessageTtlSeconds)) {
    throw fail(`_default_message_ttl can not exceed ${options.maxMessageTtlSeconds} seconds, and must be at least 60 seconds long.`);
  }
  const postSize = intOrFail('_max_messages_post_size');
  if (postSize !== null && !(postSize > 0 && postSize <= options.maxMessagesPostSizeBytes)) {
    throw fail(`_max_messages_post_size can not exceed ${options.maxMessagesPostSizeBytes},  and must be at least greater than 0.`);
  }
  intOrFail('_max_claim_count');
  const dlqTtl = intOrFail('_dead_letter_queue_messages_ttl');
  if (dlqTtl !== null && !(dlqTtl >= messageTtlMinSeconds && dlqTtl <= options.maxMessageTtlSeconds)) {
    throw fail(`The TTL for a message may not exceed ${options.maxMessageTtlSeconds} seconds, and must be at least 60 seconds long.`);
  }
  const delay = intOrFail('_default_message_delay');
  if (delay !== null && !(delay >= 0 && delay <= options.maxMessageDelaySeconds)) {
    throw fail(`The TTL can not exceed ${options.maxMessageDelaySeconds} seconds, and must be at least 0 seconds long.`);
  }
  const encrypt = metadata['_enable_encrypt_messages'];
  if (isTruthy(encrypt) && typeof encrypt !== 'boolean') throw fail('_enable_encrypt_messages must be boolean.');
  validateRetryPolicy(metadata['_retry_policy'], fail);
}

const retryIntKeys = ['retries_with_no_delay', 'minimum_delay_retries', 'minimum_delay', 'maximum_delay', 'maximum_delay_retries'];
const backoffFunctions = new Set(['linear', 'arithmetic', 'exponential', 'geometric']);

export function validateRetryPolicy(policy: unknown, fail: (description: string) => BrokerError): void {
  if (!isTruthy(policy)) return;
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) throw fail('retry_policy must be a dict.');
  const p = policy as Record<string, unknown>;
  for (const key of retryIntKeys) {
    const v = p[key];
    if (isTruthy(v) && !(typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v)))) {
      throw fail(`Retry policy: ${key} must be a integer.`);
    }
  }
  const fn = p['retry_backoff_function'];
  if (isTruthy(fn) && typeof fn !== 'string') throw fail('retry_backoff_function must be a string.');
  if (isTruthy(fn) && !backoffFunctions.has(fn as string)) throw fail('invalid retry_backoff_function.');
  const override = p['ignore_subscription_override'];
  if (isTruthy(override) && typeof override !== 'boolean') throw fail('ignore_subscription_override must be a boolean.');
  const minDelay = Number(p['minimum_delay'] ?? 5);
  const maxDelay = Number(p['maximum_delay'] ?? 30);
  if (maxDelay < minDelay) throw fail('minimum_delay must less than maximum_delay.');
  if (maxDelay - minDelay < 10) throw fail('invalid minimum_delay and maximum_delay.');
}

export interface PatchChange {
  readonly op: 'add' | 'replace' | 'remove';
  readonly key: string;
  readonly value?: JsonValue;
  /** Whether `value` was written as an int literal (for the reserved-key checks). */
  readonly isIntLiteral: boolean;
}

const patchOps = new Set(['add', 'remove', 'replace']);

function patchError(description: string): BrokerError {
  return new BrokerError('invalid_request_body', description);
}

/** Validates a JSON-patch document (already known to be an array) into changes. */
export function parsePatch(parsed: ParsedJson, changes: JsonValue[]): PatchChange[] {
  return changes.map((raw) => {
    if (!isPlainObject(raw)) throw patchError('Operations must be JSON objects.');
    const op = raw['op'];
    if (op === undefined || op === null) {
      throw patchError('Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.');
    }
    if (typeof op !== 'string' || !patchOps.has(op)) {
      throw patchError(`Invalid operation: \`${String(op)}\`. It must be one of the following: add, remove, replace.`);
    }
    if (!Object.hasOwn(raw, 'path')) throw patchError("Unable to find 'path' in JSON Schema change");
    const segments = decodePointer(String(raw['path']));
    if (segments.length !== 2) {
      throw patchError(`Invalid JSON pointer for this resource: '/${segments.join('/')}, e.g /metadata/key'`);
    }
    const [root = '', key = ''] = segments;
    if (op === 'remove') return { op, key, isIntLiteral: false };
    if (!Object.hasOwn(raw, 'value')) throw patchError(`Operation "${op}" requires a member named "value".`);
    if (root.toLowerCase() !== 'metadata') throw patchError('The root of path must be metadata, e.g /metadata/key.');
    const value = raw['value'] as JsonValue;
    const isIntLiteral = typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value) && !parsed.isFloat(raw, 'value'));
    return { op: op as 'add' | 'replace', key, value, isIntLiteral };
  });
}

function decodePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw patchError(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw patchError(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw patchError(`Pointer \`${pointer}\` end with "/".`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw patchError(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
  return pointer.replace(/^\/+/, '').split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

/**
 * Applies changes to the stored metadata (reference `_do_add/_do_replace/_do_remove`).
 * Returns the new metadata and which keys now hold int literals from this patch.
 */
export function applyPatch(stored: QueueMetadata, changes: readonly PatchChange[], options: ApiOptions): QueueMetadata {
  const reserved = reservedDefaults(options);
  const next: QueueMetadata = { ...stored };
  for (const change of changes) {
    const exists = Object.hasOwn(next, change.key);
    const isReserved = Object.hasOwn(reserved, change.key);
    if (change.op === 'add') {
      next[change.key] = change.value;
    } else if (change.op === 'replace') {
      if (!exists && !isReserved) throw new BrokerError('resource_conflict', `Can't replace non-existent object ${change.key}.`);
      next[change.key] = change.value;
    } else if (exists) {
      delete next[change.key];
    } else if (!isReserved) {
      throw new BrokerError('resource_conflict', `Can't remove non-existent object ${change.key}.`);
    }
  }
  return next;
}

/**
 * Queue metadata rules: the display rule fills missing or falsy reserved keys, patches
 * apply to stored metadata with the reference's conflict rules, JSON pointers are
 * validated and unescaped, and reserved values are type- and range-checked.
 */
import { describe, expect, test } from 'vitest';
import { defaultApiOptions } from './api-options.js';
import { BrokerError } from './errors.js';
import { parseJsonBody } from './json-body.js';
import { applyPatch, displayMetadata, parsePatch, validateReservedMetadata } from './queue-metadata.js';

function patchOf(text: string): ReturnType<typeof parsePatch> {
  const parsed = parseJsonBody(new TextEncoder().encode(text));
  return parsePatch(parsed, parsed.value as never);
}

describe('displayMetadata', () => {
  test('fills the seven reserved keys when missing or falsy, keeps everything else', () => {
    const shown = displayMetadata({ a: 1, _default_message_ttl: 0, _max_claim_count: 5, _retry_policy: {} }, defaultApiOptions);
    expect(shown).toEqual({
      a: 1, _retry_policy: {}, _max_claim_count: 5, _default_message_ttl: 3600, _max_messages_post_size: 262144,
      _default_message_delay: 0, _dead_letter_queue: null, _dead_letter_queue_messages_ttl: null, _enable_encrypt_messages: false,
    });
    expect(displayMetadata(null, defaultApiOptions)['_default_message_ttl']).toBe(3600);
  });
});

describe('patches', () => {
  test('unescape pointers and apply in order to the stored metadata', () => {
    const changes = patchOf('[{"op": "add", "path": "/metadata/a~1b", "value": 1}, {"op": "add", "path": "/METADATA/ t~0 ", "value": 2},'
      + ' {"op": "remove", "path": "/metadata/gone"}, {"op": "replace", "path": "/metadata/_max_claim_count", "value": 3}]');
    expect(applyPatch({ gone: true }, changes, defaultApiOptions)).toEqual({ 'a/b': 1, 't~': 2, _max_claim_count: 3 });
  });
  test('refuse malformed pointers', () => {
    for (const path of ['metadata/a', '/metadata//a', '/metadata/a/', '/metadata/~2']) {
      expect(() => patchOf(`[{"op": "add", "path": "${path}", "value": 1}]`), path).toThrow(BrokerError);
    }
  });
  test('replace and remove of unknown non-reserved keys conflict', () => {
    const conflict = (text: string): string | undefined => {
      try {
        applyPatch({}, patchOf(text), defaultApiOptions);
      } catch (error) {
        return error instanceof BrokerError ? error.code : 'other';
      }
      return undefined;
    };
    expect(conflict('[{"op": "replace", "path": "/metadata/x", "value": 1}]')).toBe('resource_conflict');
    expect(conflict('[{"op": "remove", "path": "/metadata/x"}]')).toBe('resource_conflict');
    expect(conflict('[{"op": "remove", "path": "/metadata/_dead_letter_queue"}]')).toBeUndefined();
  });
});

describe('validateReservedMetadata', () => {
  const check = (metadata: Record<string, unknown>, isInt = true): string | undefined => {
    try {
      validateReservedMetadata(metadata, defaultApiOptions, () => isInt, 'invalid_api_request');
    } catch (error) {
      return error instanceof BrokerError ? error.message : 'other';
    }
    return undefined;
  };
  test('type-checks truthy values and range-checks non-null ones', () => {
    expect(check({ _default_message_ttl: 60, _max_messages_post_size: 1, _default_message_delay: 0 })).toBeUndefined();
    expect(check({ _default_message_ttl: 120 }, false)).toBe('_default_message_ttl must be integer.');
    expect(check({ _default_message_ttl: 0 })).toMatch(/^_default_message_ttl can not exceed/);
    expect(check({ _max_messages_post_size: 0 })).toMatch(/^_max_messages_post_size can not exceed/);
    expect(check({ _default_message_delay: null, _dead_letter_queue_messages_ttl: null })).toBeUndefined();
    expect(check({ _enable_encrypt_messages: 1 })).toBe('_enable_encrypt_messages must be boolean.');
    expect(check({ _retry_policy: { retry_backoff_function: 'cubic' } })).toBe('invalid retry_backoff_function.');
    expect(check({ _retry_policy: { minimum_delay: 10, maximum_delay: 15 } })).toBe('invalid minimum_delay and maximum_delay.');
  });
});

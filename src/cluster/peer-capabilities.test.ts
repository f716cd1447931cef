/**
 * PeerCapabilities: a capability counts only for nodes that advertised it when last
 * heard; an older version (no list) and an unknown node count as having none, and a later
 * exchange replaces what a node advertised before.
 */
import { describe, expect, test } from 'vitest';
import { capabilitiesMax, isCapabilityList, PeerCapabilities, postChecksExpectedMetadata } from './peer-capabilities.js';

describe('PeerCapabilities', () => {
  test('every node must have advertised the capability; unknown and older nodes have none', () => {
    const capabilities = new PeerCapabilities();
    expect(capabilities.allHave([], postChecksExpectedMetadata)).toBe(true);
    capabilities.record(2, [postChecksExpectedMetadata]);
    capabilities.record(3, undefined);
    expect(capabilities.allHave([2], postChecksExpectedMetadata)).toBe(true);
    expect(capabilities.allHave([2, 3], postChecksExpectedMetadata)).toBe(false);
    expect(capabilities.allHave([2, 4], postChecksExpectedMetadata)).toBe(false);
    capabilities.record(3, [postChecksExpectedMetadata]);
    expect(capabilities.allHave([2, 3], postChecksExpectedMetadata)).toBe(true);
    // The last exchange wins: a node that stops advertising it (a downgrade) counts as without.
    capabilities.record(2, []);
    expect(capabilities.allHave([2, 3], postChecksExpectedMetadata)).toBe(false);
  });

  test('a received list is bounded strings', () => {
    expect(isCapabilityList([postChecksExpectedMetadata])).toBe(true);
    expect(isCapabilityList('x')).toBe(false);
    expect(isCapabilityList([1])).toBe(false);
    expect(isCapabilityList(['x'.repeat(65)])).toBe(false);
    expect(isCapabilityList(Array.from({ length: capabilitiesMax + 1 }, () => 'x'))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { NodeId } from '../common/ids.js';
import { defaultPersistRoundsInFlightMax } from './cluster-shard-logs.js';

describe('defaultPersistRoundsInFlightMax', () => {
  it('awaits each round on a node alone and keeps rounds in flight on a node with peers', () => {
    expect(defaultPersistRoundsInFlightMax([1 as NodeId])).toBe(1);
    expect(defaultPersistRoundsInFlightMax([1, 2] as NodeId[])).toBe(4);
    expect(defaultPersistRoundsInFlightMax([1, 2, 3] as NodeId[])).toBe(4);
  });
});

import { expect, test } from 'vitest';
import { OverloadedError, ShardUnavailableError } from './errors.js';

test('cluster errors carry the names the api maps and their shard id', () => {
  const cause = new Error('disk');
  const unavailable = new ShardUnavailableError(3, 'down', { cause });
  expect([unavailable.name, unavailable.shardId, unavailable.cause]).toEqual(['ShardUnavailableError', 3, cause]);
  expect(new OverloadedError(1, 'full').name).toBe('OverloadedError');
});

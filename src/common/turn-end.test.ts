/**
 * atTurnEnd: work queued at the end of a turn runs in the check phase right after the
 * turn's I/O, and work it queues in turn runs in the same drain, ahead of an immediate
 * scheduled meanwhile (which waits for the next loop iteration).
 */
import { expect, test } from 'vitest';
import { atTurnEnd } from './turn-end.js';

test('work queued while the queue drains runs in the same drain, before the next iteration', async () => {
  const order: string[] = [];
  await new Promise<void>((done) => {
    atTurnEnd(() => {
      order.push('flush');
      setImmediate(() => {
        order.push('next iteration');
        done();
      });
      atTurnEnd(() => order.push('handed on'));
    });
    atTurnEnd(() => order.push('second flush'));
  });
  expect(order).toEqual(['flush', 'second flush', 'handed on', 'next iteration']);
});

/**
 * Invariant checks. A failed assertion means the process holds state it cannot trust:
 * in raft, log and the shard FSM the caller lets it crash (a crashed replica recovers
 * from its peers; a corrupt one does harm). Never use for expected outcomes.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}

export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unreachable ${what}: ${JSON.stringify(value)}`);
}

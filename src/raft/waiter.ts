/**
 * One caller waiting on a Raft outcome: a promise settled exactly once, optionally tied
 * to an AbortSignal (aborting stops the wait; it does not un-propose anything).
 */
import type { LogIndex, Term } from './types.js';

export class Waiter<T> {
  readonly promise: Promise<T>;
  /** Set once the request reached the core: where its entry sits (proposals) or which read it is. */
  index: LogIndex | undefined;
  term: Term | undefined;
  isSettled = false;
  private resolveFn: (value: T) => void = () => undefined;
  private rejectFn: (error: unknown) => void = () => undefined;
  private detach: () => void = () => undefined;

  constructor(signal: AbortSignal | undefined, onAbort: () => unknown) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (signal === undefined) return;
    if (signal.aborted) {
      this.reject(onAbort());
      return;
    }
    const listener = (): void => this.reject(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    this.detach = () => signal.removeEventListener('abort', listener);
  }

  resolve(value: T): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.detach();
    this.resolveFn(value);
  }

  reject(error: unknown): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.detach();
    this.rejectFn(error);
  }
}

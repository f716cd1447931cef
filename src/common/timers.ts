/**
 * Periodic tasks (background gc, outbox retries) behind an interface, so modules outside
 * common/ and transport/ never call setInterval themselves and tests run tasks on demand.
 */

export interface Timers {
  /** Runs `task` every `intervalMs` until the returned function is called. */
  every(intervalMs: number, task: () => void): () => void;
}

export class SystemTimers implements Timers {
  every(intervalMs: number, task: () => void): () => void {
    const handle = setInterval(task, intervalMs);
    // Background work must never keep a process alive on its own.
    handle.unref();
    return () => clearInterval(handle);
  }
}

/** Tasks run only when a test calls `runAll()`. */
export class ManualTimers implements Timers {
  private readonly tasks = new Set<() => void>();

  every(_intervalMs: number, task: () => void): () => void {
    const entry = (): void => task();
    this.tasks.add(entry);
    return () => this.tasks.delete(entry);
  }

  runAll(): void {
    for (const task of [...this.tasks]) task();
  }
}

/** One-shot delays (reconnect back-off) behind an interface, for the same reasons. */
export interface Delays {
  /** Runs `task` once after `delayMs` unless the returned function is called first. */
  after(delayMs: number, task: () => void): () => void;
}

export class SystemDelays implements Delays {
  after(delayMs: number, task: () => void): () => void {
    const handle = setTimeout(task, delayMs);
    // A pending retry must never keep a process alive on its own.
    handle.unref();
    return () => clearTimeout(handle);
  }
}

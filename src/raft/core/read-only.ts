/**
 * ReadIndex requests a leader is confirming: each records the commit index at arrival and
 * which voters answered the heartbeat that carried its context. Once a majority answered,
 * that request and every earlier one are safe (the leader was still the leader after they
 * arrived), in arrival order. Bounded by the caller (`readsPendingMax`).
 */
import type { LogIndex, NodeId } from '../types.js';

export interface PendingRead {
  readonly context: string;
  readonly index: LogIndex;
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private queue: PendingRead[] = [];
  private readonly byContext = new Map<string, PendingRead>();

  add(read: PendingRead): boolean {
    if (this.byContext.has(read.context)) return false;
    this.queue.push(read);
    this.byContext.set(read.context, read);
    return true;
  }

  get(context: string): PendingRead | undefined {
    return this.byContext.get(context);
  }

  /** Removes and returns every request up to and including `context`. */
  releaseThrough(context: string): PendingRead[] {
    const at = this.queue.findIndex((read) => read.context === context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    for (const read of released) this.byContext.delete(read.context);
    return released;
  }

  lastContext(): string | undefined {
    return this.queue[this.queue.length - 1]?.context;
  }

  size(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
    this.byContext.clear();
  }
}

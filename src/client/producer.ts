/**
 * Producer: coalesces individual `send`s into `postMessages` batches for throughput.
 *
 * A batch goes out when it is full (`batchMessagesMax` messages or `batchBytesMax`
 * bytes of serialised messages) or when the oldest buffered message has waited
 * `lingerMs`. At most `inFlightBatchesMax` batches are unanswered at once; messages
 * buffer behind them up to `bufferedMessagesMax`, beyond which `send` rejects with
 * ZaqarLimitError instead of growing memory. Each `send` resolves with the message's
 * id once its batch is acknowledged, or rejects with the batch's error (a connection
 * error means the batch may or may not have been stored: at-least-once is the caller's
 * decision to retry). Order of acknowledged messages follows the order of `send`
 * calls within a batch; batches in flight concurrently may be stored in either order.
 */
import type { NewMessage, ZaqarApi } from './client-types.js';
import type { Delays } from '../common/timers.js';
import { systemDelays } from './client-delays.js';
import { ZaqarConnectionError, ZaqarLimitError } from './zaqar-error.js';

export interface ProducerOptions {
  readonly queue: string;
  /** Messages per post; default 100. */
  readonly batchMessagesMax?: number;
  /** JSON bytes of the messages of one post; default 200 000 (the server allows 262 144). */
  readonly batchBytesMax?: number;
  /** How long a partial batch waits for company; default 5. */
  readonly lingerMs?: number;
  /** Posts unanswered at once; default 4. */
  readonly inFlightBatchesMax?: number;
  /** Messages buffered and not yet posted; default 10 000. */
  readonly bufferedMessagesMax?: number;
}

interface Entry {
  readonly message: NewMessage;
  readonly bytes: number;
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

export class Producer {
  private readonly batchMessagesMax: number;
  private readonly batchBytesMax: number;
  private readonly lingerMs: number;
  private readonly inFlightBatchesMax: number;
  private readonly bufferedMessagesMax: number;
  private buffer: Entry[] = [];
  private bufferedBytes = 0;
  private inFlightBatches = 0;
  private isDraining = false;
  private isClosed = false;
  private cancelLinger: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly client: ZaqarApi,
    private readonly options: ProducerOptions,
    private readonly delays: Delays = systemDelays,
  ) {
    this.batchMessagesMax = options.batchMessagesMax ?? 100;
    this.batchBytesMax = options.batchBytesMax ?? 200_000;
    this.lingerMs = options.lingerMs ?? 5;
    this.inFlightBatchesMax = options.inFlightBatchesMax ?? 4;
    this.bufferedMessagesMax = options.bufferedMessagesMax ?? 10_000;
  }

  /** Buffers one message; resolves with its id when its batch is stored. */
  send(message: NewMessage): Promise<string> {
    if (this.isClosed) return Promise.reject(new ZaqarConnectionError('producer is closed'));
    if (this.buffer.length >= this.bufferedMessagesMax) {
      return Promise.reject(new ZaqarLimitError(`more than ${this.bufferedMessagesMax} messages buffered`));
    }
    const bytes = JSON.stringify(message).length + 1;
    if (bytes > this.batchBytesMax) {
      return Promise.reject(new ZaqarLimitError(`message of ${bytes} bytes exceeds batchBytesMax ${this.batchBytesMax}`));
    }
    return new Promise<string>((resolve, reject) => {
      this.buffer.push({ message, bytes, resolve, reject });
      this.bufferedBytes += bytes;
      if (this.hasFullBatch()) this.dispatch();
      else this.cancelLinger ??= this.delays.after(this.lingerMs, () => this.onLinger());
    });
  }

  /** Posts everything buffered now and resolves when every post has been answered. */
  flush(): Promise<void> {
    this.isDraining = true;
    this.dispatch();
    if (this.buffer.length === 0 && this.inFlightBatches === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.flush();
  }

  /** Messages buffered and not yet posted. */
  get bufferedMessages(): number {
    return this.buffer.length;
  }

  private onLinger(): void {
    this.cancelLinger = undefined;
    this.isDraining = true;
    this.dispatch();
  }

  private hasFullBatch(): boolean {
    return this.buffer.length >= this.batchMessagesMax || this.bufferedBytes >= this.batchBytesMax;
  }

  private dispatch(): void {
    while (this.inFlightBatches < this.inFlightBatchesMax && this.buffer.length > 0
      && (this.isDraining || this.hasFullBatch())) {
      this.post(this.takeBatch());
    }
    if (this.buffer.length === 0) {
      this.isDraining = false;
      this.cancelLinger?.();
      this.cancelLinger = undefined;
    } else if (!this.isDraining) {
      this.cancelLinger ??= this.delays.after(this.lingerMs, () => this.onLinger());
    }
    if (this.buffer.length === 0 && this.inFlightBatches === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private takeBatch(): Entry[] {
    let bytes = 0;
    let count = 0;
    for (const entry of this.buffer) {
      if (count >= this.batchMessagesMax || (count > 0 && bytes + entry.bytes > this.batchBytesMax)) break;
      bytes += entry.bytes;
      count += 1;
    }
    const batch = this.buffer.slice(0, count);
    this.buffer = this.buffer.slice(count);
    this.bufferedBytes -= bytes;
    return batch;
  }

  private post(batch: Entry[]): void {
    this.inFlightBatches += 1;
    this.client.postMessages(this.options.queue, batch.map((e) => e.message)).then((ids) => {
      batch.forEach((entry, i) => {
        const id = ids[i];
        if (id === undefined) entry.reject(new ZaqarConnectionError('server returned fewer ids than messages'));
        else entry.resolve(id);
      });
    }, (error: unknown) => {
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const entry of batch) entry.reject(reason);
    }).finally(() => {
      this.inFlightBatches -= 1;
      this.dispatch();
    }).catch(() => {
      // dispatch() does not throw; this keeps the chain from floating.
    });
  }
}

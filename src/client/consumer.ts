/**
 * Consumer: the claim → handle → delete loop of a Zaqar worker.
 *
 * Each round claims up to `batchSize` messages, runs the handler on each of them
 * concurrently, and deletes every handled message with its claim id (so a message that
 * meanwhile went to another worker's claim is not deleted from under it). While
 * handlers run, the claim is renewed every half of its ttl, so long work does not lose
 * it. If a handler throws, the message is left and the claim is released at the end of
 * the round, making it available again at once. Nothing to claim → waits `idleDelayMs`.
 * Errors of the server or the connection go to `onError` and the loop waits
 * `idleDelayMs` before the next round; it never stops by itself.
 */
import type { Message, ZaqarApi } from './client-types.js';
import type { Delays } from '../common/timers.js';
import { systemDelays } from './client-delays.js';

export type MessageHandler = (message: Message) => Promise<void> | void;

export interface ConsumerOptions {
  readonly queue: string;
  readonly handler: MessageHandler;
  /** Claim ttl in seconds; default 60. */
  readonly claimTtlSeconds?: number;
  /** Claim grace in seconds; default 60. */
  readonly claimGraceSeconds?: number;
  /** Messages per claim (1..20); default 10. */
  readonly batchSize?: number;
  /** Pause after an empty claim or an error; default 1000. */
  readonly idleDelayMs?: number;
  readonly onError?: (error: unknown, message?: Message) => void;
}

export class Consumer {
  private isRunning = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private processedCount = 0;

  constructor(
    private readonly client: ZaqarApi,
    private readonly options: ConsumerOptions,
    private readonly delays: Delays = systemDelays,
  ) {}

  /** Messages handled and deleted so far. */
  get processed(): number {
    return this.processedCount;
  }

  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.loop = this.run();
  }

  /** Stops after the current round; resolves when it is finished. */
  async stop(): Promise<void> {
    this.isRunning = false;
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.isRunning) {
      let isIdle: boolean;
      try {
        isIdle = !(await this.round());
      } catch (error) {
        this.options.onError?.(error);
        isIdle = true;
      }
      if (isIdle && this.isRunning) await this.pause(this.options.idleDelayMs ?? 1000);
    }
  }

  /** One claim and its messages; false when there was nothing to claim. */
  private async round(): Promise<boolean> {
    const { queue } = this.options;
    const ttl = this.options.claimTtlSeconds ?? 60;
    const grace = this.options.claimGraceSeconds ?? 60;
    const claim = await this.client.claimMessages(queue, { ttl, grace, limit: this.options.batchSize ?? 10 });
    if (claim === undefined) return false;
    const stopRenewing = this.renewEvery(claim.id, (ttl * 1000) / 2, { ttl, grace });
    let hasFailures = false;
    try {
      await Promise.all(claim.messages.map(async (message) => {
        try {
          await this.options.handler(message);
          await this.client.deleteMessage(queue, message.id, { claimId: claim.id });
          this.processedCount += 1;
        } catch (error) {
          hasFailures = true;
          this.options.onError?.(error, message);
        }
      }));
    } finally {
      stopRenewing();
    }
    if (hasFailures) await this.client.releaseClaim(queue, claim.id);
    return true;
  }

  private renewEvery(claimId: string, periodMs: number, options: { ttl: number; grace: number }): () => void {
    let cancel = (): void => {};
    let isStopped = false;
    const schedule = (): void => {
      cancel = this.delays.after(periodMs, () => {
        this.client.renewClaim(this.options.queue, claimId, options)
          .catch((error: unknown) => this.options.onError?.(error))
          .finally(() => {
            if (!isStopped) schedule();
          })
          .catch(() => {});
      });
    };
    schedule();
    return () => {
      isStopped = true;
      cancel();
    };
  }

  private pause(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.delays.after(delayMs, () => {
        this.wakeUp = undefined;
        resolve();
      });
      this.wakeUp = () => {
        cancel();
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}

/**
 * An in-process network of RaftTransports, under the control of tests and the simulator.
 *
 * Sent messages wait in one bounded pool until delivered. `deliverOne()` picks a random
 * waiting message (so delivery order is arbitrary: reordering and delay for free), then
 * applies the faults: drop with `dropRate`, deliver twice with `duplicateRate`, and drop
 * anything crossing a cut link (symmetric partitions are two one-way cuts). With
 * `autoDeliver`, every send schedules delivery of everything waiting (tests with real
 * timers); otherwise nothing moves until the owner calls deliver*.
 */
import type { Random } from '../../common/random.js';
import type { NodeId, RaftMessage, RaftTransport } from '../types.js';

export interface MemoryNetworkOptions {
  readonly random: Random;
  /** Messages waiting at most; beyond it new messages are dropped, as a full socket would. */
  readonly inFlightMax?: number;
  /** Schedules a delivery pass after sends (e.g. setImmediate); omitted: manual delivery. */
  readonly autoDeliver?: (deliver: () => void) => void;
}

export class MemoryNetwork {
  dropRate = 0;
  duplicateRate = 0;
  private readonly handlers = new Map<NodeId, (message: RaftMessage) => void>();
  private inFlight: RaftMessage[] = [];
  /** Cut links as `${from}>${to}`. */
  private readonly cuts = new Set<string>();
  private isDeliveryScheduled = false;
  private readonly inFlightMax: number;
  delivered = 0;
  dropped = 0;

  constructor(private readonly options: MemoryNetworkOptions) {
    this.inFlightMax = options.inFlightMax ?? 10_000;
  }

  /** The transport of node `id` (a new one replaces the old, as after a restart). */
  transport(id: NodeId): RaftTransport {
    let handler: ((message: RaftMessage) => void) | undefined;
    return {
      send: (messages) => {
        for (const message of messages) this.enqueue(message);
      },
      onMessage: (receive) => {
        handler = receive;
        this.handlers.set(id, receive);
      },
      close: async () => {
        if (this.handlers.get(id) === handler) this.handlers.delete(id);
      },
    };
  }

  /** Detaches node `id` at once (a crash): its pending deliveries are lost. */
  disconnect(id: NodeId): void {
    this.handlers.delete(id);
  }

  /** Cuts every link between the two sides, both ways. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cutOneWay(a, b);
        this.cutOneWay(b, a);
      }
    }
  }

  /** Messages from `from` to `to` are lost; the other direction still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Delivers (or loses) one random waiting message; false when none waits. */
  deliverOne(): boolean {
    if (this.inFlight.length === 0) return false;
    const at = this.options.random.int(this.inFlight.length);
    const message = this.inFlight[at];
    const last = this.inFlight.pop();
    if (message === undefined || last === undefined) return false;
    if (at < this.inFlight.length) this.inFlight[at] = last;
    this.route(message);
    return true;
  }

  /** Delivers up to `countMax` messages; returns how many were taken. */
  deliverAll(countMax = Number.MAX_SAFE_INTEGER): number {
    let count = 0;
    while (count < countMax && this.deliverOne()) count++;
    return count;
  }

  private enqueue(message: RaftMessage): void {
    if (this.inFlight.length >= this.inFlightMax) {
      this.dropped++;
      return;
    }
    this.inFlight.push(message);
    if (this.options.autoDeliver !== undefined && !this.isDeliveryScheduled) {
      this.isDeliveryScheduled = true;
      this.options.autoDeliver(() => {
        this.isDeliveryScheduled = false;
        this.deliverAll(this.inFlight.length);
      });
    }
  }

  private route(message: RaftMessage): void {
    const { random } = this.options;
    const handler = this.handlers.get(message.to);
    if (handler === undefined || this.isCut(message.from, message.to) || (this.dropRate > 0 && random.next() < this.dropRate)) {
      this.dropped++;
      return;
    }
    this.delivered++;
    handler(message);
    if (this.duplicateRate > 0 && random.next() < this.duplicateRate) this.inFlight.push(message);
  }
}

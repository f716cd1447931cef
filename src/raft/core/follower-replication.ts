/**
 * A follower's side of replication: appends (accepted after the matching entry, else
 * rejected with a hint of where the logs may agree), heartbeats (commit, and a signal
 * when this replica lost entries it had acknowledged), chunked snapshots (reassembled,
 * then installed unless the log already holds them), TimeoutNow and ReadIndex answers.
 */
import type { LogIndex, Snapshot, Term } from '../types.js';
import { type Message, MessageType } from './messages.js';
import type { CoreContext } from './core-context.js';
import { SnapshotReceiver } from './snapshot-receiver.js';

export class FollowerReplication {
  private readonly snapshotReceiver = new SnapshotReceiver();

  constructor(private readonly core: CoreContext) {}

  step(m: Message): void {
    if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
      this.core.electionElapsed = 0;
      this.core.lead = m.from;
    }
    switch (m.type) {
      case MessageType.App:
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.handleSnapshotChunk(m);
        return;
      case MessageType.TimeoutNow:
        this.core.campaignTransfer();
        return;
      case MessageType.ReadIndexResp:
        this.core.addReadState({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit): more than our last index means this replica
    // lost entries it had acknowledged (damage). Clamp, and say so, so the leader lowers
    // its match and repairs the log.
    const lastIndex = this.core.log.lastIndex();
    this.core.log.commitTo(Math.min(m.commit, lastIndex) as LogIndex);
    this.core.send({ to: m.from, type: MessageType.HeartbeatResp, context: m.context, tick: m.tick, reject: m.commit > lastIndex, rejectHint: lastIndex });
  }

  private handleAppend(m: Message): void {
    if (m.index < this.core.log.committed) {
      this.core.send({ to: m.from, type: MessageType.AppResp, index: this.core.log.committed });
      return;
    }
    const lastNew = this.core.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      if (m.skipAnswer !== true || m.entries.length > 0) this.core.send({ to: m.from, type: MessageType.AppResp, index: lastNew });
      return;
    }
    const hint = this.core.log.findConflictByTerm(Math.min(m.index, this.core.log.lastIndex()) as LogIndex, m.logTerm);
    this.core.send({ to: m.from, type: MessageType.AppResp, index: m.index, reject: true, rejectHint: hint, logTerm: this.core.log.term(hint) ?? (0 as Term) });
  }

  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot;
    if (chunk === null) return;
    if (chunk.meta.index <= this.core.log.committed) {
      this.snapshotReceiver.clear();
      this.core.send({ to: m.from, type: MessageType.AppResp, index: this.core.log.committed });
      return;
    }
    if (!this.snapshotReceiver.accepts(chunk)) {
      const expected = this.snapshotReceiver.isReceiving(chunk.meta) ? this.snapshotReceiver.received : 0;
      this.core.send({ to: m.from, type: MessageType.SnapResp, index: chunk.meta.index, reject: true, rejectHint: expected });
      return;
    }
    const snapshot = this.snapshotReceiver.add(chunk);
    if (snapshot === undefined) {
      this.core.send({ to: m.from, type: MessageType.SnapResp, index: chunk.meta.index, rejectHint: this.snapshotReceiver.received });
      return;
    }
    const index = this.restore(snapshot) ? this.core.log.lastIndex() : this.core.log.committed;
    this.core.send({ to: m.from, type: MessageType.AppResp, index });
  }

  /** Installs a leader's snapshot unless the log already holds its last entry. */
  private restore(snapshot: Snapshot): boolean {
    const { meta } = snapshot;
    if (meta.index <= this.core.log.committed) return false;
    if (this.core.log.matchTerm(meta.index, meta.term)) {
      this.core.log.commitTo(meta.index);
      return false;
    }
    this.core.log.restore(snapshot);
    this.core.restoreConf(meta.conf);
    return true;
  }
}

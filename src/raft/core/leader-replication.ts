/**
 * A leader's side of log replication: what to send each follower (appends, heartbeats,
 * snapshot chunks, TimeoutNow) and what their answers change (progress, commit, reads).
 * Pipelined appends stay inside each follower's in-flight window; an append never
 * carries more than `appendBytesMax` bytes (but always at least one entry).
 */
import { assert } from '../../common/assert.js';
import type { LogIndex, NodeId } from '../types.js';
import { type Message, MessageType } from './messages.js';
import type { Progress } from './progress.js';
import { hasQuorum } from './quorum.js';
import type { CoreContext } from './core-context.js';

export class LeaderReplication {
  constructor(private readonly core: CoreContext) {}

  step(m: Message): void {
    const pr = this.core.progress.get(m.from);
    if (m.type === MessageType.ReadIndex) {
      this.core.readIndexes.request(m.context, m.from);
      return;
    }
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        pr.recentActive = true;
        pr.probeSent = false;
        if (m.reject && m.rejectHint < pr.match) pr.lostEntriesAfter(m.rejectHint as LogIndex);
        // Appends may have been lost with the window full: free a slot so replication
        // resumes (a gap is then rejected and repaired by probing).
        if (pr.state === 'replicate' && pr.inflights.isFull()) pr.inflights.freeFirstOne();
        if (pr.match < this.core.log.lastIndex()) this.sendAppend(m.from);
        if (m.tick > 0) this.core.lease.acknowledge(m.from, m.tick);
        if (m.context !== '') this.core.readIndexes.acknowledge(m.context, m.from);
        return;
      case MessageType.SnapResp:
        pr.recentActive = true;
        if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return;
        pr.snapshotOffset = m.rejectHint;
        pr.snapshotAcked = true;
        this.sendSnapshotChunk(m.from, pr);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      if (pr.maybeDecrTo(m.index, m.rejectHint as LogIndex)) {
        if (pr.state === 'replicate' || pr.state === 'snapshot') pr.becomeProbe();
        pr.probeSent = false;
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot') {
      if (pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    if (this.core.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    while (this.sendAppend(m.from, false)) {
      // Pipelining: fill the in-flight window with what the follower lacks.
    }
    if (m.from === this.core.leadTransferee && pr.match === this.core.log.lastIndex()) {
      this.core.send({ to: m.from, type: MessageType.TimeoutNow });
    }
  }

  bcastAppend(): void {
    for (const id of this.core.progress.keys()) if (id !== this.core.id) this.sendAppend(id);
  }

  /** Sends what `to` lacks (an empty append when `sendIfEmpty`); false when nothing was sent. */
  sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.core.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const { log } = this.core;
    assert(pr.next <= log.lastIndex() + 1, () => `progress of ${to} runs past the log`);
    const prevIndex = (pr.next - 1) as LogIndex;
    const prevTerm = log.term(prevIndex);
    const entries = prevTerm === undefined ? undefined : log.entriesFrom(pr.next, this.core.config.appendBytesMax);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    // Nothing in flight and nothing new (a commit index, or a heartbeat answer's nudge): an
    // accepting answer would only repeat the match the leader has.
    const skipAnswer = entries.length === 0 && pr.state === 'replicate' && pr.match + 1 === pr.next;
    this.core.send({ to, type: MessageType.App, index: prevIndex, logTerm: prevTerm, entries, commit: log.committed, ...(skipAnswer ? { skipAnswer } : {}) });
    pr.sentEntries(entries[entries.length - 1]?.index);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snapshot = this.core.log.storedSnapshot();
    // Storage may build the image on demand (etcd's ErrSnapshotTemporarilyUnavailable):
    // the follower stays in probe and a later heartbeat answer retries.
    if (snapshot === undefined) return false;
    pr.becomeSnapshot(snapshot.meta.index);
    this.sendSnapshotChunk(to, pr);
    return true;
  }

  /** Sends the chunk at the follower's acknowledged offset (restarting if storage holds a newer snapshot). */
  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const snapshot = this.core.log.storedSnapshot();
    if (snapshot === undefined) return;
    if (snapshot.meta.index !== pr.pendingSnapshot) pr.becomeSnapshot(snapshot.meta.index);
    const totalBytes = snapshot.data.byteLength;
    const offset = pr.snapshotOffset <= totalBytes ? pr.snapshotOffset : 0;
    const data = snapshot.data.subarray(offset, offset + this.core.config.snapshotChunkBytes);
    this.core.send({ to, type: MessageType.Snap, snapshot: { meta: snapshot.meta, offset, totalBytes, data } });
  }

  bcastHeartbeat(context: string): void {
    const tick = this.core.lease.isOn ? this.core.tickCount : 0;
    for (const [id, pr] of this.core.progress) {
      if (id === this.core.id) continue;
      const commit = Math.min(pr.match, this.core.log.committed) as LogIndex;
      this.core.send({ to: id, type: MessageType.Heartbeat, commit, context, tick });
    }
  }

  /** A follower in snapshot state that acknowledged nothing for a heartbeat interval gets its chunk again. */
  resendStalledSnapshots(): void {
    for (const [id, pr] of this.core.progress) {
      if (pr.state !== 'snapshot') continue;
      if (!pr.snapshotAcked) this.sendSnapshotChunk(id, pr);
      pr.snapshotAcked = false;
    }
  }

  /** Check-quorum: whether a majority was heard from since the last check (and starts the next round). */
  checkQuorumActive(): boolean {
    const { core } = this;
    const isActive = hasQuorum(core.conf.voters, (id) => id === core.id || (core.progress.get(id)?.recentActive ?? false));
    for (const [id, pr] of core.progress) pr.recentActive = id === core.id;
    return isActive;
  }

  sendTransferWhenCaughtUp(to: NodeId): void {
    const pr = this.core.progress.get(to);
    if (pr === undefined) return;
    if (pr.match === this.core.log.lastIndex()) this.core.send({ to, type: MessageType.TimeoutNow });
    else this.sendAppend(to);
  }
}

/**
 * Text forms of Raft messages, entries and Readys for the interaction scripts: short,
 * stable, and close to etcd's so scripts read like theirs.
 */
import { decodeConfChange } from '../../src/raft/core/conf-change.js';
import { type Message, MessageType, messageTypeNames } from '../../src/raft/core/messages.js';
import type { Ready } from '../../src/raft/core/ready.js';
import { type Entry, EntryType } from '../../src/raft/types.js';

const decoder = new TextDecoder();

export function formatEntry(entry: Entry): string {
  if (entry.type === EntryType.ConfChange) {
    const change = decodeConfChange(entry.data);
    return `${entry.term}/${entry.index} ConfChange ${change.kind} ${change.nodeId}`;
  }
  return `${entry.term}/${entry.index} ${JSON.stringify(decoder.decode(entry.data))}`;
}

export function formatMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${messageTypeNames[m.type]} term=${m.term}`];
  switch (m.type) {
    case MessageType.App:
      parts.push(`log=${m.logTerm}/${m.index} commit=${m.commit}`);
      if (m.entries.length > 0) parts.push(`entries=[${m.entries.map(formatEntry).join(', ')}]`);
      break;
    case MessageType.AppResp:
      parts.push(m.reject ? `index=${m.index} rejected hint=${m.logTerm}/${m.rejectHint}` : `index=${m.index}`);
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`log=${m.logTerm}/${m.index}`);
      if (m.context !== '') parts.push(m.context);
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      if (m.reject) parts.push('rejected');
      break;
    case MessageType.Heartbeat:
      parts.push(`commit=${m.commit}`);
      if (m.tick > 0) parts.push(`tick=${m.tick}`);
      break;
    case MessageType.HeartbeatResp:
      if (m.reject) parts.push(`rejected last=${m.rejectHint}`);
      if (m.tick > 0) parts.push(`tick=${m.tick}`);
      break;
    case MessageType.Snap:
      if (m.snapshot !== null) {
        const s = m.snapshot;
        parts.push(`snapshot=${s.meta.term}/${s.meta.index} bytes=${s.offset}+${s.data.byteLength}/${s.totalBytes} voters=(${s.meta.conf.voters.join(',')})`);
      }
      break;
    case MessageType.SnapResp:
      parts.push(`snapshot=${m.index} next=${m.rejectHint}${m.reject ? ' rejected' : ''}`);
      break;
    case MessageType.ReadIndexResp:
      parts.push(`index=${m.index}`);
      break;
    default:
      break;
  }
  if (m.context !== '' && m.type !== MessageType.Vote && m.type !== MessageType.PreVote) parts.push(`ctx=${m.context}`);
  return parts.join(' ');
}

export function formatReady(ready: Ready): string[] {
  const lines: string[] = [];
  if (ready.softState !== undefined) lines.push(`State: ${ready.softState.role} leader=${ready.softState.leader}`);
  if (ready.hardState !== undefined) {
    const hs = ready.hardState;
    lines.push(`HardState term=${hs.term} vote=${hs.vote} commit=${hs.commit}${ready.mustSync ? '' : ' (not synced)'}`);
  }
  if (ready.snapshot !== undefined) {
    const meta = ready.snapshot.meta;
    lines.push(`Snapshot ${meta.term}/${meta.index} voters=(${meta.conf.voters.join(',')}) learners=(${meta.conf.learners.join(',')})`);
  }
  if (ready.entries.length > 0) lines.push('Entries:', ...ready.entries.map((e) => `  ${formatEntry(e)}`));
  if (ready.messages.length > 0) lines.push('Messages:', ...ready.messages.map((m) => `  ${formatMessage(m)}`));
  if (ready.messagesAfterPersist.length > 0) lines.push('MessagesAfterPersist:', ...ready.messagesAfterPersist.map((m) => `  ${formatMessage(m)}`));
  if (ready.committed.length > 0) lines.push('Committed:', ...ready.committed.map((e) => `  ${formatEntry(e)}`));
  for (const read of ready.readStates) lines.push(`ReadState ctx=${read.context} index=${read.index}`);
  return lines;
}

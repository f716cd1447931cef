/**
 * The world an interaction script drives: several RaftCores, each over its own
 * MemoryLogStore and a list-of-strings state machine, joined by per-node mailboxes that
 * only move when the script says so. Every command returns the text the script expects.
 *
 * Nodes added with `async-storage=true` run with asynchronous storage writes:
 * `process-ready` takes a Ready, sends its `messages` and applies its committed entries
 * but leaves its writes pending; `persist-ready` writes the oldest pending Ready to the
 * store, reports it persisted and sends its `messagesAfterPersist` (etcd's
 * process-append-thread); `stabilize` does both; a restart loses what is still pending.
 */
import { assert } from '../../src/common/assert.js';
import { SeededRandom } from '../../src/common/random.js';
import { MemoryLogStore } from '../../src/log/memory/memory-log-store.js';
import type { ConfChangeKind } from '../../src/raft/core/conf-change.js';
import { raftConfig, type RaftConfig } from '../../src/raft/core/config.js';
import { type Message, asCoreMessage } from '../../src/raft/core/messages.js';
import { RaftCore } from '../../src/raft/core/raft.js';
import { logReaderOf } from '../../src/raft/core/raft-log.js';
import { type Ready, requiredWrite } from '../../src/raft/core/ready.js';
import type { LogIndex, NodeId, ShardId, Snapshot } from '../../src/raft/types.js';
import type { CommandArgs, ScriptCase } from './datadriven.js';
import { formatEntry, formatMessage, formatReady } from './format.js';

const shardId = 1 as ShardId;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface TestNode {
  core: RaftCore;
  readonly config: RaftConfig;
  readonly store: MemoryLogStore;
  applied: string[];
  /** Asynchronous storage writes: Readys taken whose writes are not yet done, oldest first. */
  pending: Ready[];
}

export class InteractionEnv {
  private readonly nodes = new Map<NodeId, TestNode>();
  private readonly mailboxes = new Map<NodeId, Message[]>();
  private readonly isolated = new Set<NodeId>();

  handle(c: ScriptCase): string {
    const ids = c.args.positional.map((word) => Number(word) as NodeId);
    const [first, second] = ids;
    const one = (): NodeId => {
      assert(first !== undefined, `${c.command} needs a node id`);
      return first;
    };
    const words = c.args.positional.slice(1);
    switch (c.command) {
      case 'add-nodes':
        return this.addNodes(Number(c.args.positional[0]), c.args);
      case 'campaign':
        this.node(one()).core.campaign();
        return '';
      case 'tick':
        return this.tick(one(), Number(named(c.args, 'n', '1')));
      case 'tick-heartbeat':
        return this.tick(one(), this.node(one()).config.heartbeatTicks);
      case 'tick-election': {
        const node = this.node(one());
        return this.tick(one(), node.core.role === 'leader' ? node.config.electionTicks : 2 * node.config.electionTicks - 1);
      }
      case 'process-ready':
        return ids.flatMap((id) => this.processReady(id)).join('\n');
      case 'persist-ready':
        return ids.flatMap((id) => this.persistReady(id)).join('\n');
      case 'deliver-msgs':
        return ids.flatMap((id) => this.deliver(id)).join('\n');
      case 'drop-msgs':
        return ids.flatMap((id) => this.drop(id)).join('\n');
      case 'stabilize':
        return this.stabilize(ids.length > 0 ? ids : [...this.nodes.keys()]);
      case 'propose':
        return JSON.stringify(this.node(one()).core.propose(encoder.encode(words.join(' '))));
      case 'propose-batch':
        return JSON.stringify(this.node(one()).core.proposeBatch(words.map((w) => encoder.encode(w))));
      case 'propose-conf-change':
        return JSON.stringify(this.node(one()).core.proposeConfChange({ kind: (words[0] ?? '') as ConfChangeKind, nodeId: Number(words[1]) as NodeId }));
      case 'read-index':
        return JSON.stringify(this.node(one()).core.readIndex(words[0] ?? ''));
      case 'transfer-leadership':
        assert(second !== undefined, 'transfer-leadership needs from and to');
        return JSON.stringify(this.node(one()).core.transferLeadership(second));
      case 'status':
        return this.status(one());
      case 'raft-log':
        return this.raftLog(one());
      case 'applied':
        return `${one()}: [${this.node(one()).applied.join(' ')}]`;
      case 'compact':
        return this.compact(one());
      case 'isolate':
        this.isolated.add(one());
        return '';
      case 'heal':
        this.isolated.clear();
        return '';
      case 'restart':
        return this.restart(one(), named(c.args, 'keep-msgs', 'false') === 'true');
      case 'corrupt-entry':
        return String(this.node(one()).store.corruptEntry(shardId, Number(words[0]) as LogIndex));
      case 'truncate-log':
        return String(this.node(one()).store.truncateEntries(shardId, Number(words[0]) as LogIndex));
      case 'corrupt-snapshot':
        return String(this.node(one()).store.corruptSnapshot(shardId));
      default:
        throw new Error(`unknown command ${c.command}`);
    }
  }

  private addNodes(count: number, args: CommandArgs): string {
    const start = this.nodes.size + 1;
    const newIds = Array.from({ length: count }, (_, i) => (start + i) as NodeId);
    const peers = (args.named.get('voters') ?? newIds.map(String)).map((x) => Number(x) as NodeId);
    const lines: string[] = [];
    for (const id of newIds) {
      const config = raftConfig({
        id,
        shardId,
        peers,
        isPreVote: named(args, 'prevote', 'false') === 'true',
        isCheckQuorum: named(args, 'checkquorum', 'false') === 'true',
        isLeaseRead: named(args, 'lease', 'true') === 'true',
        inflightMessagesMax: Number(named(args, 'inflight', '4')),
        proposalsPendingMax: Number(named(args, 'pending-max', '100')),
        snapshotChunkBytes: Number(named(args, 'snapshot-chunk-bytes', '1024')),
        appendBytesMax: Number(named(args, 'append-bytes', '1024')),
        learnerCatchUpEntriesMax: Number(named(args, 'catch-up', '2')),
        isAsyncStorageWrites: named(args, 'async-storage', 'false') === 'true',
      });
      const store = new MemoryLogStore();
      this.nodes.set(id, { config, store, applied: [], pending: [], core: newCore(config, store) });
      this.mailboxes.set(id, []);
      lines.push(this.status(id));
    }
    return lines.join('\n');
  }

  private node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  private tick(id: NodeId, count: number): string {
    for (let i = 0; i < count; i++) this.node(id).core.tick();
    return '';
  }

  private processReady(id: NodeId): string[] {
    const node = this.node(id);
    const ready = node.core.takeReady();
    if (ready === undefined) return [];
    if (node.config.isAsyncStorageWrites) return this.startReady(id, node, ready);
    if (ready.snapshot !== undefined) {
      void node.store.persistSnapshot(shardId, ready.snapshot);
      node.applied = restoreList(ready.snapshot);
    }
    const write = requiredWrite(ready);
    if (write !== undefined) void node.store.persist(shardId, write);
    this.post(ready.messages);
    for (const entry of ready.committed) {
      if (entry.type === 0 && entry.data.byteLength > 0) node.applied.push(decoder.decode(entry.data));
    }
    node.core.advance(ready);
    return [`> ${id} handling Ready`, ...formatReady(ready).map((line) => `  ${line}`)];
  }

  /** Asynchronous storage writes: sends and applies what needs no wait; the writes stay pending. */
  private startReady(id: NodeId, node: TestNode, ready: Ready): string[] {
    this.post(ready.messages);
    for (const entry of ready.committed) {
      if (entry.type === 0 && entry.data.byteLength > 0) node.applied.push(decoder.decode(entry.data));
    }
    node.core.applied(ready);
    node.pending.push(ready);
    return [`> ${id} handling Ready (writes pending)`, ...formatReady(ready).map((line) => `  ${line}`)];
  }

  /** Asynchronous storage writes: the oldest pending Ready's writes become durable. */
  private persistReady(id: NodeId): string[] {
    const node = this.node(id);
    const ready = node.pending.shift();
    if (ready === undefined) return [];
    if (ready.snapshot !== undefined) {
      void node.store.persistSnapshot(shardId, ready.snapshot);
      node.applied = restoreList(ready.snapshot);
    }
    const write = requiredWrite(ready);
    if (write !== undefined) void node.store.persist(shardId, write);
    node.core.persisted(ready);
    this.post(ready.messagesAfterPersist);
    const sent = ready.messagesAfterPersist.map((m) => `  ${formatMessage(m)}`);
    return [`> ${id} persisted Ready`, ...(sent.length > 0 ? ['  Sent:', ...sent.map((line) => `  ${line}`)] : [])];
  }

  private post(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.isolated.has(m.from) || this.isolated.has(m.to)) continue;
      this.mailboxes.get(m.to)?.push(m);
    }
  }

  private deliver(id: NodeId): string[] {
    const box = this.mailboxes.get(id) ?? [];
    if (box.length === 0) return [];
    this.mailboxes.set(id, []);
    for (const m of box) this.node(id).core.step(m);
    return [`> ${id} receiving messages`, ...box.map((m) => `  ${formatMessage(asCoreMessage(m))}`)];
  }

  private drop(id: NodeId): string[] {
    const box = this.mailboxes.get(id) ?? [];
    this.mailboxes.set(id, []);
    return box.map((m) => `dropped: ${formatMessage(m)}`);
  }

  private stabilize(ids: readonly NodeId[]): string {
    const lines: string[] = [];
    for (let round = 0; round < 1000; round++) {
      let isBusy = false;
      for (const id of ids) {
        const out = this.processReady(id);
        while (this.node(id).pending.length > 0) out.push(...this.persistReady(id));
        if (out.length > 0) isBusy = true;
        lines.push(...out);
      }
      for (const id of ids) {
        const out = this.deliver(id);
        if (out.length > 0) isBusy = true;
        lines.push(...out);
      }
      if (!isBusy) return lines.join('\n');
    }
    throw new Error('stabilize did not converge');
  }

  private status(id: NodeId): string {
    const s = this.node(id).core.status();
    const damaged = s.isDamaged ? ' damaged' : '';
    const lines = [
      `${id}: ${s.role} term=${s.term} vote=${s.vote} leader=${s.leader} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} voters=(${s.conf.voters.join(',')}) learners=(${s.conf.learners.join(',')})${damaged}`,
    ];
    for (const [peer, pr] of s.progress) lines.push(`  ${peer}: match=${pr.match} next=${pr.next} ${pr.state}`);
    return lines.join('\n');
  }

  private raftLog(id: NodeId): string {
    const { log } = this.node(id).core;
    const entries = log.slice(log.firstIndex(), (log.lastIndex() + 1) as LogIndex, Number.MAX_SAFE_INTEGER);
    const head = `first=${log.firstIndex()} last=${log.lastIndex()} commit=${log.committed}`;
    return [head, ...entries.map(formatEntry)].join('\n');
  }

  private compact(id: NodeId): string {
    const node = this.node(id);
    const { core } = node;
    const index = core.log.applied;
    const term = core.log.term(index);
    assert(term !== undefined, 'applied entry has no term');
    const snapshot: Snapshot = { meta: { index, term, conf: core.conf }, data: encoder.encode(JSON.stringify(node.applied)) };
    void node.store.persistSnapshot(shardId, snapshot);
    core.compacted(snapshot.meta);
    return `compacted ${id} through ${term}/${index}`;
  }

  /** Crash and restart; messages already on their way to the node arrive later if `isKeepingMessages`. */
  private restart(id: NodeId, isKeepingMessages: boolean): string {
    const node = this.node(id);
    node.store.crash();
    node.pending = [];
    node.core = newCore(node.config, node.store);
    const snapshot = node.store.snapshot(shardId);
    node.applied = snapshot === undefined ? [] : restoreList(snapshot);
    if (!isKeepingMessages) this.mailboxes.set(id, []);
    return this.status(id);
  }
}

function newCore(config: RaftConfig, store: MemoryLogStore): RaftCore {
  return new RaftCore(config, { reader: logReaderOf(store, shardId), state: store.load(shardId), random: new SeededRandom(config.id) });
}

function restoreList(snapshot: Snapshot): string[] {
  const parsed: unknown = JSON.parse(decoder.decode(snapshot.data));
  assert(Array.isArray(parsed), 'snapshot is not a list');
  return parsed.map(String);
}

function named(args: CommandArgs, key: string, fallback: string): string {
  return args.named.get(key)?.[0] ?? fallback;
}

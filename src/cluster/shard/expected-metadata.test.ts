/**
 * A post that carries the queue metadata it was validated against (expectedMetadata) is
 * applied only while the queue still holds those values: a stale one changes no state
 * (not even the lazy creation of the queue) and stays rejected when repeated, a fresh one
 * applies like any post, and a post without the field (every entry written before it
 * existed, byte for byte) applies unconditionally. Driven through QueueFsm on the memory
 * store, with encoded log entries.
 */
import { describe, expect, test } from 'vitest';
import type { LogIndex, ShardId } from '../../common/ids.js';
import { MemoryQueueStore } from '../../log/memory/memory-queue-store.js';
import { encodeBody } from './body-codec.js';
import { encodeCommand, type ShardCommand } from './commands.js';
import { holdsExpectedMetadata } from './expected-metadata.js';
import { QueueFsm } from './queue-fsm.js';

const shard = 1 as ShardId;
const key = { shardId: shard, project: 'p', queue: 'q' };
const none = { _max_messages_post_size: null, _default_message_ttl: null, _default_message_delay: null };

function driver(): { fsm: QueueFsm; applyData(data: Uint8Array): unknown; apply(command: ShardCommand): unknown } {
  const fsm = new QueueFsm(shard, new MemoryQueueStore());
  const applyData = (data: Uint8Array): unknown => fsm.apply([{ index: (fsm.appliedIndex + 1) as LogIndex, data }])[0];
  return { fsm, applyData, apply: (command) => applyData(encodeCommand(command)) };
}

function post(firstId: number, expectedMetadata?: Record<string, unknown>): ShardCommand {
  const messages = [0, 1].map((i) => ({ id: String(firstId + i).padStart(24, '0'), body: encodeBody(i), ttlSeconds: 300, delaySeconds: 0, checksum: null }));
  return { type: 'post', nowMs: 1000, project: 'p', queue: 'q', clientId: 'c', messages, ...(expectedMetadata === undefined ? {} : { expectedMetadata }) };
}

function setMetadata(metadata: Record<string, unknown>): ShardCommand {
  return { type: 'setMetadata', nowMs: 1000, project: 'p', queue: 'q', metadata, commandId: `set-${JSON.stringify(metadata)}` };
}

describe('QueueFsm post with expectedMetadata', () => {
  test('a post expecting metadata the queue no longer holds applies nothing and says so', () => {
    const { fsm, apply } = driver();
    apply({ type: 'createQueue', nowMs: 1000, project: 'p', queue: 'q', metadata: { _default_message_ttl: 120 }, commandId: 'create' });
    expect(apply(post(0, { ...none, _default_message_ttl: 120 }))).toEqual({ seqs: [1, 2] });
    apply(setMetadata({ _default_message_ttl: 600 }));
    expect(apply(post(10, { ...none, _default_message_ttl: 120 }))).toEqual({ seqs: [], isMetadataStale: true });
    expect([...fsm.store.messages(key, 0)].map((m) => m.seq)).toEqual([1, 2]);
    expect(fsm.store.getQueue(key)?.nextSeq).toBe(3);
    expect(apply(post(20, { ...none, _default_message_ttl: 600 }))).toEqual({ seqs: [3, 4] });
  });

  test('a stale post to a missing queue does not create it; one expecting no metadata does', () => {
    const { fsm, apply } = driver();
    expect(apply(post(0, { ...none, _max_messages_post_size: 1000 }))).toEqual({ seqs: [], isMetadataStale: true });
    expect(fsm.store.getQueue(key)).toBeUndefined();
    expect(apply(post(10, none))).toEqual({ seqs: [1, 2] });
    expect(fsm.store.getQueue(key)?.metadata).toEqual({});
  });

  test('a repeated stale post stays rejected after the metadata changed back', () => {
    const { fsm, apply } = driver();
    apply({ type: 'createQueue', nowMs: 1000, project: 'p', queue: 'q', metadata: {}, commandId: 'create' });
    apply(setMetadata({ _default_message_delay: 5 }));
    const stale = post(0, none);
    expect(apply(stale)).toEqual({ seqs: [], isMetadataStale: true });
    apply(setMetadata({}));
    expect(apply(stale)).toEqual({ seqs: [], isMetadataStale: true });
    expect([...fsm.store.messages(key, 0)]).toEqual([]);
  });

  test('a post entry written without expectedMetadata applies whatever the metadata', () => {
    const { fsm, apply, applyData } = driver();
    apply({ type: 'createQueue', nowMs: 1000, project: 'p', queue: 'q', metadata: { _default_message_ttl: 600 }, commandId: 'create' });
    // A post entry exactly as the previous version encoded it (one message, ttl 300).
    const previous = Buffer.from(
      '9201d4724096a474797065a56e6f774d73a770726f6a656374a57175657565a8636c69656e744964a86d65737361676573a4706f7374cd03e8a170a171a16391' +
      'd4724195a26964a4626f6479aa74746c5365636f6e6473ac64656c61795365636f6e6473a8636865636b73756db8303030303030303030303030303030303030' +
      '303030303030c406de0001a16e01cd012c00c0',
      'hex',
    );
    expect(applyData(previous)).toEqual({ seqs: [1] });
    expect(apply(post(10))).toEqual({ seqs: [2, 3] });
    expect([...fsm.store.messages(key, 0)].map((m) => m.ttlSeconds)).toEqual([300, 300, 300]);
  });
});

describe('holdsExpectedMetadata', () => {
  test('compares JSON values, treating an absent key as null', () => {
    expect(holdsExpectedMetadata({}, none)).toBe(true);
    expect(holdsExpectedMetadata({ other: 1 }, none)).toBe(true);
    expect(holdsExpectedMetadata({ _default_message_ttl: 0 }, none)).toBe(false);
    expect(holdsExpectedMetadata({ _default_message_ttl: 60 }, { _default_message_ttl: 60 })).toBe(true);
    expect(holdsExpectedMetadata({ _default_message_ttl: '60' }, { _default_message_ttl: 60 })).toBe(false);
    expect(holdsExpectedMetadata({ k: { a: [1, { b: 2 }], c: null } }, { k: { c: null, a: [1, { b: 2 }] } })).toBe(true);
    expect(holdsExpectedMetadata({ k: { a: [1, { b: 2 }] } }, { k: { a: [1, { b: 3 }] } })).toBe(false);
    expect(holdsExpectedMetadata({ k: [1, 2] }, { k: [1, 2, 3] })).toBe(false);
    expect(holdsExpectedMetadata({ k: { a: 1 } }, { k: { a: 1, b: 1 } })).toBe(false);
  });
});

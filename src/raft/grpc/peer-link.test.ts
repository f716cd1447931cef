/**
 * PeerLink's queue and framing, against a recording stream: one frame per turn, frames
 * split at frameBytesMax, nothing written while the stream is backed up until it drains,
 * the byte bound dropping the oldest messages, and a replaced stream being ended.
 */
import { EventEmitter } from 'node:events';
import { expect, test } from 'vitest';
import type { Frame } from './frame-codec.js';
import { PeerLink, type FrameStream } from './peer-link.js';

class RecordingStream extends EventEmitter implements FrameStream {
  readonly frames: Frame[] = [];
  isBackedUp = false;
  isEnded = false;
  write(frame: Frame): boolean {
    this.frames.push(frame);
    return !this.isBackedUp;
  }
  end(): void {
    this.isEnded = true;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const message = (byte: number, bytes = 10): Buffer => Buffer.alloc(bytes, byte);
const limits = { queueMessagesMax: 100, queueBytesMax: 10_000, frameBytesMax: 35 };

test('PeerLink writes one turn of messages as frames no larger than frameBytesMax', async () => {
  const link = new PeerLink(limits);
  const stream = new RecordingStream();
  link.attach(stream);
  for (let i = 0; i < 7; i++) link.enqueue(message(i));
  await nextTurn();
  expect(stream.frames.map((frame) => frame.length)).toEqual([3, 3, 1]);
  expect(link.counters).toEqual({ messagesSent: 7, framesSent: 3, messagesDropped: 0 });
});

test('PeerLink stops writing while the stream is backed up and resumes on drain', async () => {
  const link = new PeerLink(limits);
  const stream = new RecordingStream();
  stream.isBackedUp = true;
  link.attach(stream);
  for (let i = 0; i < 7; i++) link.enqueue(message(i));
  await nextTurn();
  expect(stream.frames).toHaveLength(1);
  expect(link.queuedMessages).toBe(4);
  stream.isBackedUp = false;
  stream.emit('drain');
  expect(stream.frames).toHaveLength(3);
  expect(link.queuedMessages).toBe(0);
});

test('PeerLink drops the oldest messages beyond queueBytesMax while unattached', async () => {
  const link = new PeerLink({ ...limits, queueBytesMax: 45 });
  for (let i = 0; i < 6; i++) link.enqueue(message(i));
  expect(link.queuedMessages).toBe(4);
  expect(link.counters.messagesDropped).toBe(2);
  const stream = new RecordingStream();
  link.attach(stream);
  await nextTurn();
  expect(stream.frames.flat().map((part) => (part as Buffer)[0])).toEqual([2, 3, 4, 5]);
});

test('PeerLink ends a stream it replaces and ignores the detach of a stale one', async () => {
  const link = new PeerLink(limits);
  const first = new RecordingStream();
  const second = new RecordingStream();
  link.attach(first);
  link.attach(second);
  expect(first.isEnded).toBe(true);
  link.detach(first);
  expect(link.isConnected).toBe(true);
  link.enqueue(message(1));
  await nextTurn();
  expect(second.frames).toHaveLength(1);
  expect(first.frames).toHaveLength(0);
});

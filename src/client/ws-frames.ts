/**
 * Client-side framing of the Zaqar WebSocket protocol (zaqar-websocket.md §2): JSON in
 * text frames, MessagePack in binary frames. MessagePack documents are plain maps with
 * string keys (no msgpackr records or extensions), which is what the reference server
 * and python-zaqarclient read.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { WsEncoding } from './client-types.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function encodeFrame(document: unknown, encoding: WsEncoding): string | Buffer {
  return encoding === 'json' ? JSON.stringify(document) : packr.pack(document);
}

/** Decodes one received frame; throws when it is not valid JSON / MessagePack. */
export function decodeFrame(data: Buffer, isBinary: boolean): unknown {
  return isBinary ? unpackr.unpack(data) : JSON.parse(data.toString('utf8'));
}

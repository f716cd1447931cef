/**
 * A JSON value held as its msgpack encoding: a stored message body (records.ts), put into
 * a reply as it is. JSON.stringify decodes it through `toJSON`, so an HTTP or JSON
 * WebSocket reply reads as if it held the decoded value; the msgpack WebSocket encoder
 * copies its bytes into the frame instead (transport/ws/protocol.ts), so a reply of many
 * messages neither decodes nor encodes their bodies again.
 */
import { decodeBody } from '../cluster/shard/body-codec.js';

export class EncodedJson {
  constructor(readonly bytes: Uint8Array) {}

  /** The decoded value (a JSON value: bodies are stored only as such). */
  toJSON(): unknown {
    return decodeBody(this.bytes);
  }
}

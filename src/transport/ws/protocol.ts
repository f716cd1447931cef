/**
 * The Zaqar WebSocket envelope (zaqar-websocket.md §2–§5): frame decoding (JSON text,
 * MessagePack binary), the request checks in the reference's order and with its exact
 * error responses, and the response envelope. Pure functions, no uWS: the session
 * feeds frames in and sends what comes out, in the encoding of the request.
 *
 * Pipeline (§5): decode → must be an object → action lookup → schema → (auth gate and
 * dispatch, in ws-dispatcher.ts). A failed step answers 400 with `{"error": …}`; decode
 * and type failures echo the empty request, the others echo what was parsed.
 */
import { addExtension, Packr, Unpackr } from 'msgpackr';
import { EncodedJson } from '../../api/encoded-json.js';
import { isJsonObject, type JsonValue } from '../../api/json-body.js';
import { actionSchemas, hasType, typedHeaders, type ActionSchema } from './action-schemas.js';
import { fieldExtent, postFrameLayout, type PostFrameLayout } from './msgpack-extent.js';

export type JsonObject = { [key: string]: JsonValue };

/** A request that passed steps 1–4. */
export interface WsRequest {
  readonly action: string;
  readonly schema: ActionSchema;
  /** Frame headers exactly as sent (case-sensitive keys). */
  readonly headers: JsonObject;
  /** The body, `{}` when absent. */
  readonly body: JsonObject;
  /** What the response echoes as `request`. */
  readonly echo: JsonObject;
  /** MessagePack bytes of the echoed body, copied from a binary frame (encodeResponse splices them in). */
  readonly echoBodyBytes?: Uint8Array;
  /** At least the Python JSON length (python-json-length.ts) of any value in the frame; absent: unknown. */
  readonly pythonLengthAtMost?: number;
}

/** A decoded frame and a bound on the Python JSON length of any value in it (see jsonLengthBound). */
export interface DecodedFrame {
  readonly value: JsonValue;
  readonly pythonLengthAtMost: number;
  /** The MessagePack bytes of the frame's `body`, when already copied out of it (a message post's). */
  readonly bodyBytes?: Uint8Array;
}

export interface WsResponse {
  readonly request: JsonObject;
  readonly headers: { readonly status: number };
  readonly body: JsonValue;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly response: WsResponse };

export function emptyEcho(): JsonObject {
  return { action: null, body: {}, headers: {}, api: 'v2' };
}

export function response(echo: JsonObject, reply: { readonly status: number; readonly body: JsonValue }): WsResponse {
  return { request: echo, headers: { status: reply.status }, body: reply.body };
}

/** A failed check: 400 with the protocol-level `{"error": …}` body. */
function refused(echo: JsonObject, error: string): { readonly ok: false; readonly response: WsResponse } {
  return { ok: false, response: response(echo, { status: 400, body: { error } }) };
}

const packr = new Packr({ useRecords: false, variableMapSize: true });

/**
 * msgpackr writes an EncodedJson (a stored message body) as its bytes, in place, not as an
 * extension: a `pack` hook that writes through `allocateForWrite` and returns nothing adds
 * no extension header. Registering it claims an extension type for reading too, in every
 * Unpackr of the process; this one reads as an unknown type does, with the same errors.
 */
const encodedJsonType = 0x4a;
const encodedJsonExtension = {
  Class: EncodedJson,
  type: encodedJsonType,
  pack(value: EncodedJson, allocateForWrite: (size: number) => { target: Uint8Array; position: number }): undefined {
    const { target, position } = allocateForWrite(value.bytes.byteLength);
    target.set(value.bytes, position);
    return undefined;
  },
  unpack(_data: Uint8Array, readNested?: unknown): never {
    // Fixed-size extensions are read with the data alone, sized ones with a nested reader too.
    throw new Error(readNested === undefined ? `Unknown extension ${encodedJsonType}` : `Unknown extension type ${encodedJsonType}`);
  },
};
// msgpackr's typings know only a `pack` that returns the extension's bytes.
addExtension(encodedJsonExtension as unknown as Parameters<typeof addExtension>[0]);
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Step 1: one JSON document per text frame, one MessagePack document per binary frame. */
export function decodeFrame(data: Uint8Array, isBinary: boolean): Checked<JsonValue> {
  const decoded = readFrame(data, isBinary);
  return decoded.ok ? { ok: true, value: decoded.value.value } : decoded;
}

/**
 * decodeFrame, with a bound on the Python JSON length of any value in the frame. JSON
 * text: a parsed string has at most one UTF-16 unit per byte of its text, each written
 * in at most 6 characters, and no other token grows more than 12-fold ("1e999" is
 * `Infinity`, a `,` becomes `, `). MessagePack: counted while checking the decoded value.
 */
export function readFrame(data: Uint8Array, isBinary: boolean): Checked<DecodedFrame> {
  try {
    if (!isBinary) {
      return { ok: true, value: { value: JSON.parse(utf8.decode(data)) as JsonValue, pythonLengthAtMost: 12 * data.length + 2 } };
    }
    const layout = postFrameLayout(data);
    const post = layout === undefined ? undefined : readPostFrame(data, layout);
    if (post !== undefined) return { ok: true, value: post };
    const value = unpackr.unpack(data) as unknown;
    return { ok: true, value: { value: value as JsonValue, pythonLengthAtMost: jsonLengthBound(value) } };
  } catch (caught) {
    const error = isTrailingData(caught) ? namedError('ExtraData', 'unpack(b) received extra data.') : caught;
    const kind = isBinary ? 'binary (MessagePack)' : 'text (JSON)';
    const name = error instanceof SyntaxError ? 'JSONDecodeError' : error instanceof Error ? error.name : 'Error';
    const detail = error instanceof Error ? error.message : String(error);
    return refused(emptyEcho(), `Can't decode ${kind} request. ${name}: ${detail}`);
  }
}

/**
 * A message post decoded without its messages' bodies: each is an EncodedJson of its
 * bytes, which the broker stores as they are, so decoding them into values (strings and
 * objects that live as long as the request) would be work for nothing. Decodes the frame
 * with nil in their place; undefined (decode it whole) when the value read does not have
 * the layout's shape. Each body is a JSON value (postFrameLayout checked its bytes) whose
 * Python JSON length is at most 24 characters per byte (a float64 in 9 bytes, a `false`
 * in one, separators and quotes fewer).
 */
function readPostFrame(data: Uint8Array, layout: PostFrameLayout): DecodedFrame | undefined {
  // Reused up to 64 KiB: the decoded value holds no views of it (a plain frame has no bin values).
  const stripped = data.length <= strippedFrame.length ? strippedFrame : Buffer.allocUnsafe(data.length);
  let from = 0;
  let length = 0;
  let bodiesLength = 0;
  for (const extent of layout.messageBodies) {
    if (extent === undefined) continue;
    stripped.set(data.subarray(from, extent.start), length);
    length += extent.start - from;
    stripped[length++] = msgpackNil;
    from = extent.end;
    bodiesLength += extent.end - extent.start;
  }
  stripped.set(data.subarray(from), length);
  length += data.length - from;
  const value = unpackr.unpack(stripped.subarray(0, length)) as JsonValue;
  const messages = isJsonObject(value) && isJsonObject(value['body']) ? value['body']['messages'] : undefined;
  if (!Array.isArray(messages) || messages.length !== layout.messageBodies.length) return undefined;
  const pythonLengthAtMost = jsonLengthBound(value) + 24 * bodiesLength + 2;
  const { body } = layout;
  const bodyBytes = Buffer.allocUnsafe(body.end - body.start);
  bodyBytes.set(data.subarray(body.start, body.end));
  for (let i = 0; i < messages.length; i++) {
    const extent = layout.messageBodies[i];
    if (extent === undefined) continue;
    const message = messages[i];
    if (!isJsonObject(message) || message['body'] !== null) return undefined;
    message['body'] = new EncodedJson(bodyBytes.subarray(extent.start - body.start, extent.end - body.start));
  }
  return { value, pythonLengthAtMost, bodyBytes };
}

const msgpackNil = 0xc0;
const strippedFrame = Buffer.allocUnsafe(64 * 1024);

/** Encodes a response (or a pushed notification) in the encoding of the request it answers. */
export function encodeFrame(document: unknown, isBinary: boolean): string | Uint8Array {
  return isBinary ? packr.pack(document) : JSON.stringify(document);
}

/** `{"request": {"action": ` as MessagePack (fixmap 3, "request", fixmap 4); the rest follows encodeResponse's order. */
const responseHead = new Uint8Array(packr.pack({ request: { action: null, body: null, headers: null, api: null }, headers: null, body: null })
  .subarray(0, 1 + 8 + 1));

/**
 * Encodes the response to `request`. A binary reply echoing a body whose bytes the
 * request kept gets them spliced in rather than encoded again: the same document as
 * encodeFrame's, keys in the same order. Packing each run of values as an array and
 * dropping the array's one-byte header yields those values' encodings back to back.
 */
export function encodeResponse(request: WsRequest, document: WsResponse, isBinary: boolean): string | Uint8Array {
  const echo = document.request;
  const bodyBytes = request.echoBodyBytes;
  if (!isBinary || bodyBytes === undefined || echo !== request.echo) return encodeFrame(document, isBinary);
  const before = echoHead(echo['action']);
  const after = packr.pack(['headers', echo['headers'], 'api', echo['api'], 'headers', document.headers, 'body', document.body]);
  return Buffer.concat([responseHead, before, bodyBytes, after.subarray(1)]);
}

/** `"action", <action>, "body"` per action name: actions passed the envelope check, so the names are the schema table's. */
const echoHeads = new Map<JsonValue | undefined, Uint8Array>();

function echoHead(action: JsonValue | undefined): Uint8Array {
  const known = echoHeads.get(action);
  if (known !== undefined) return known;
  const head = new Uint8Array(packr.pack(['action', action, 'body']).subarray(1));
  if (typeof action === 'string' && Object.hasOwn(actionSchemas, action)) echoHeads.set(action, head);
  return head;
}

/**
 * msgpackr's `unpack` stops after one document and reports bytes left over with this
 * message; Python's `unpackb` raises ExtraData there too, without decoding the rest.
 * (`unpackMultiple` would decode the trailing documents and costs a third more per frame.)
 */
function isTrailingData(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Data read, but end of buffer not reached');
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Longest `String(number)` of a finite number: 17 digits after `-0.00000` (`-0.0000012683042817235791`). */
const numberLengthMax = 25;

/**
 * Walks the decoded value in place (it is already plain arrays and objects), throws at
 * the first value JSON cannot hold (MessagePack can carry binary, timestamps, non-finite
 * floats: refuse them) and returns a bound on its Python JSON length, and so on that of
 * any value inside it: every UTF-16 unit of a string at most 6 characters, a number at
 * most 25, `false` 5, plus the brackets and separators.
 */
function jsonLengthBound(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 5;
  if (typeof value === 'string') return 6 * value.length + 2;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return numberLengthMax;
    throw namedError('ValueError', 'non-finite number');
  }
  if (Array.isArray(value)) {
    let length = 2 + 2 * value.length;
    for (const item of value) length += jsonLengthBound(item);
    return length;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const object = value as Record<string, unknown>;
    let length = 2;
    for (const key in object) length += 6 * key.length + 6 + jsonLengthBound(object[key]);
    return length;
  }
  throw namedError('TypeError', `unsupported MessagePack value of type ${describeType(value)}`);
}

function describeType(value: unknown): string {
  if (value instanceof Uint8Array) return 'bin';
  if (value instanceof Date) return 'timestamp';
  return typeof value;
}

/** Python's `str()` of an action value, for the "is not a valid action" text. */
function pythonText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return JSON.stringify(value);
}

/**
 * Steps 2–4: object, known action, schema. `binaryFrame`: the MessagePack frame
 * `document` was decoded from; `pythonLengthAtMost`: readFrame's bound for the frame;
 * `bodyBytes`: readFrame's copy of the frame's `body`, if it made one.
 */
export function checkEnvelope(document: JsonValue, binaryFrame?: Uint8Array, pythonLengthAtMost?: number, bodyBytes?: Uint8Array,
): Checked<WsRequest> {
  if (!isJsonObject(document)) {
    return refused(emptyEcho(), 'Unexpected body type. Expected dict or dict like.');
  }
  const hasBody = Object.hasOwn(document, 'body');
  const rawHeaders = document['headers'];
  const echo: JsonObject = {
    action: document['action'] ?? null,
    body: hasBody ? (document['body'] ?? null) : {},
    headers: rawHeaders === undefined || rawHeaders === null ? {} : rawHeaders,
    api: 'v2',
  };
  const action = document['action'];
  const schema = typeof action === 'string' && Object.hasOwn(actionSchemas, action) ? actionSchemas[action] : undefined;
  if (typeof action !== 'string' || schema === undefined) {
    return refused(echo, `${pythonText(action)} is not a valid action`);
  }
  const body = hasBody ? document['body'] : undefined;
  if (!matchesSchema(schema, rawHeaders, body)) {
    return refused(echo, 'Schema validation failed.');
  }
  const bodyExtent = binaryFrame === undefined || !hasBody || bodyBytes !== undefined ? undefined : fieldExtent(binaryFrame, 'body');
  const echoBodyBytes = bodyExtent === undefined ? bodyBytes : binaryFrame?.slice(bodyExtent.start, bodyExtent.end);
  return {
    ok: true,
    value: {
      action, schema, headers: isJsonObject(rawHeaders) ? rawHeaders : {}, body: isJsonObject(body) ? body : {}, echo,
      ...(echoBodyBytes === undefined ? {} : { echoBodyBytes }),
      ...(pythonLengthAtMost === undefined ? {} : { pythonLengthAtMost }),
    },
  };
}

function matchesSchema(schema: ActionSchema, headers: JsonValue | undefined, body: JsonValue | undefined): boolean {
  if (!isJsonObject(headers)) return false;
  if (!schema.headersRequired.every((name) => Object.hasOwn(headers, name))) return false;
  if (!typedHeaders.every((name) => !Object.hasOwn(headers, name) || typeof headers[name] === 'string')) return false;
  if (body === undefined) return !schema.isBodyRequired;
  if (!schema.isBodyTyped) return true;
  if (!isJsonObject(body)) return false;
  if (!schema.bodyRequired.every((name) => Object.hasOwn(body, name))) return false;
  return Object.entries(schema.bodyProperties).every(([name, type]) => !Object.hasOwn(body, name) || hasType(body[name], type));
}

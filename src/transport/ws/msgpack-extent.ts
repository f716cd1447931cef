/**
 * Where a field's value lies in the bytes of a MessagePack map, without decoding it. A
 * reply echoes its request's body (zaqar-websocket.md §4); for a posted batch that body
 * is most of the frame, so a binary reply copies those bytes instead of encoding the
 * decoded body again.
 *
 * Only plain documents qualify: string keys, no bin, no ext (msgpackr's records and
 * timestamps are exts), no 64-bit integers (they decode as BigInts) and no non-finite
 * floats, so the bytes mean exactly what the decoded value means and are a JSON value.
 */

export interface Extent {
  readonly start: number;
  readonly end: number;
}

/** Bytes [start, end) of the value of top-level key `name` (the last one when repeated), or undefined. */
export function fieldExtent(data: Uint8Array, name: string): Extent | undefined {
  try {
    return findField(data, name);
  } catch (error) {
    if (error instanceof RangeError) return undefined; // a length running past the end
    throw error;
  }
}

function findField(data: Uint8Array, name: string): Extent | undefined {
  const reader = new ExtentReader(data);
  const found = lastField(reader, Buffer.from(name, 'utf8'));
  return found !== false && reader.at === data.length ? found : undefined;
}

/** Where a message_post frame's parts lie: the `body` field's value, and each posted message's body (postedBodies) in the frame. */
export interface PostFrameLayout {
  readonly body: Extent;
  readonly messageBodies: readonly (Extent | undefined)[];
}

/**
 * The layout of a plain MessagePack frame whose (last) `action` is "message_post" and
 * whose `body` holds a `messages` array; undefined for any other frame, or when any part
 * of it is not plain. One pass over the frame.
 */
export function postFrameLayout(data: Uint8Array): PostFrameLayout | undefined {
  try {
    const reader = new ExtentReader(data);
    const count = reader.mapHead();
    if (count === undefined) return undefined;
    let action: Extent | undefined;
    let body: Extent | undefined;
    let messageBodies: (Extent | undefined)[] | undefined;
    for (let i = 0; i < count; i++) {
      const keyLength = reader.stringHead();
      if (keyLength === undefined) return undefined;
      const isAction = reader.holds(actionKey, keyLength);
      const isBody = reader.holds(bodyKey, keyLength);
      reader.at += keyLength;
      const start = reader.at;
      if (isBody) {
        const bodies = postedBodies(reader);
        if (bodies === false) return undefined;
        body = { start, end: reader.at };
        messageBodies = bodies;
        continue;
      }
      if (!reader.skipValue()) return undefined;
      if (isAction) action = { start, end: reader.at };
    }
    if (reader.at !== data.length || action === undefined || body === undefined || messageBodies === undefined) return undefined;
    reader.at = action.start;
    if (reader.stringHead() !== messagePostAction.length || !reader.holds(messagePostAction, messagePostAction.length)) return undefined;
    return { body, messageBodies };
  } catch (error) {
    if (error instanceof RangeError) return undefined; // a length running past the end, or nesting too deep
    throw error;
  }
}

/**
 * The bytes of each posted message's `body` inside the plain `{"messages": [...]}` map at
 * the reader (the `body` of a message_post; extents in the reader's data), index-aligned
 * with the decoded `messages` array (the last of repeated keys, as decoded); undefined for
 * an item that is no map or has no `body`, or for all when there is no such array. The
 * reader is then past the map; false when there is no plain map there.
 */
function postedBodies(reader: ExtentReader): (Extent | undefined)[] | undefined | false {
  const count = reader.mapHead();
  if (count === undefined) return false;
  let found: (Extent | undefined)[] | undefined;
  for (let i = 0; i < count; i++) {
    const keyLength = reader.stringHead();
    if (keyLength === undefined) return false;
    const isMessages = reader.holds(messagesKey, keyLength);
    reader.at += keyLength;
    const items = isMessages ? reader.arrayHead() : undefined;
    if (items === undefined) {
      if (!reader.skipValue()) return false;
      if (isMessages) found = undefined;
      continue;
    }
    const extents: (Extent | undefined)[] = [];
    for (let item = 0; item < items; item++) {
      const start = reader.at;
      const isMap = reader.mapHead() !== undefined;
      reader.at = start;
      const messageBody = isMap ? lastField(reader, bodyKey) : undefined;
      if (messageBody === false || (!isMap && !reader.skipValue())) return false;
      extents.push(messageBody);
    }
    found = extents;
  }
  return found;
}

const messagesKey = Buffer.from('messages', 'utf8');
const bodyKey = Buffer.from('body', 'utf8');
const actionKey = Buffer.from('action', 'utf8');
const messagePostAction = Buffer.from('message_post', 'utf8');

/**
 * The value extent of the last `key` in the map at the reader (undefined when it has
 * none), the reader then past the map; false when there is no plain map there.
 */
function lastField(reader: ExtentReader, key: Uint8Array): Extent | undefined | false {
  const count = reader.mapHead();
  if (count === undefined) return false;
  let found: Extent | undefined;
  for (let i = 0; i < count; i++) {
    const keyLength = reader.stringHead();
    if (keyLength === undefined) return false;
    const isKey = reader.holds(key, keyLength);
    reader.at += keyLength;
    const start = reader.at;
    if (!reader.skipValue()) return false;
    if (isKey) found = { start, end: reader.at };
  }
  return found;
}

/** Fixed sizes of the scalar types (nil, booleans, ints, floats) by type byte; 0: not a fixed-size scalar. */
const scalarSizes = new Uint8Array(256);
for (let type = 0; type <= 0x7f; type++) scalarSizes[type] = 1;
for (let type = 0xe0; type <= 0xff; type++) scalarSizes[type] = 1;
// No 64-bit integers (0xcf, 0xd3): msgpackr decodes them as BigInts, which JSON cannot hold.
for (const [type, size] of [[0xc0, 1], [0xc2, 1], [0xc3, 1], [0xcc, 2], [0xd0, 2], [0xcd, 3], [0xd1, 3], [0xca, 5], [0xce, 5],
  [0xd2, 5], [0xcb, 9]] as const) scalarSizes[type] = size;
const float32Type = 0xca;
const float64Type = 0xcb;

/** The type bytes of a header family: a fix range holding the count, then 8-, 16- and 32-bit counts (-1: none). */
interface HeaderTypes {
  readonly fixFirst: number;
  readonly fixLast: number;
  readonly wide8: number;
  readonly wide16: number;
  readonly wide32: number;
}

const mapTypes: HeaderTypes = { fixFirst: 0x80, fixLast: 0x8f, wide8: -1, wide16: 0xde, wide32: 0xdf };
const arrayTypes: HeaderTypes = { fixFirst: 0x90, fixLast: 0x9f, wide8: -1, wide16: 0xdc, wide32: 0xdd };
const stringTypes: HeaderTypes = { fixFirst: 0xa0, fixLast: 0xbf, wide8: 0xd9, wide16: 0xda, wide32: 0xdb };

class ExtentReader {
  at = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** A map header's entry count, or undefined when the next value is no map. */
  mapHead(): number | undefined {
    return this.head(mapTypes);
  }

  /** Skips a str (a map key must be one); false when the next value is no str or runs past the end. */
  skipString(): boolean {
    const length = this.stringHead();
    if (length === undefined) return false;
    this.at += length;
    return this.at <= this.data.length;
  }

  /** Skips one plain value; false when it is not one. */
  skipValue(): boolean {
    if (this.at >= this.data.length) return false;
    const type = this.data[this.at] ?? 0;
    const size = scalarSizes[type] ?? 0;
    if (size > 0) {
      if (type === float32Type && !Number.isFinite(this.view.getFloat32(this.at + 1))) return false;
      if (type === float64Type && !Number.isFinite(this.view.getFloat64(this.at + 1))) return false;
      this.at += size;
      return this.at <= this.data.length;
    }
    const length = this.stringHead();
    if (length !== undefined) {
      this.at += length;
      return this.at <= this.data.length;
    }
    const entries = this.mapHead();
    if (entries !== undefined) {
      for (let i = 0; i < entries; i++) if (!this.skipString() || !this.skipValue()) return false;
      return true;
    }
    const items = this.arrayHead();
    if (items === undefined) return false;
    for (let i = 0; i < items; i++) if (!this.skipValue()) return false;
    return true;
  }

  arrayHead(): number | undefined {
    return this.head(arrayTypes);
  }

  /** Whether the `length` bytes at the reader are `bytes`. */
  holds(bytes: Uint8Array, length: number): boolean {
    if (length !== bytes.length) return false;
    for (let i = 0; i < length; i++) if (this.data[this.at + i] !== bytes[i]) return false; // keys are short: no view to allocate
    return true;
  }

  /** A str header's byte length (the reader then stands on its bytes), or undefined when the next value is no str. */
  stringHead(): number | undefined {
    return this.head(stringTypes);
  }

  /** The count or length in a header of the given family, stepping over the header; undefined for another type. */
  private head(types: HeaderTypes): number | undefined {
    const type = this.data[this.at] ?? 0;
    if (type >= types.fixFirst && type <= types.fixLast) return this.advance(1, type - types.fixFirst);
    if (type === types.wide8) return this.advance(2, this.view.getUint8(this.at + 1));
    if (type === types.wide16) return this.advance(3, this.view.getUint16(this.at + 1));
    if (type === types.wide32) return this.advance(5, this.view.getUint32(this.at + 1));
    return undefined;
  }

  private advance(headerBytes: number, count: number): number {
    this.at += headerBytes;
    return count;
  }
}

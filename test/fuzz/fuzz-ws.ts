/**
 * The WebSocket fuzzer: random frames on one socket (reopened when the server closes
 * it) — envelopes of known and unknown actions with fuzzed headers and bodies, in JSON
 * text and MessagePack binary, plus raw garbage, truncated MessagePack and invalid
 * UTF-8. A frame passes when the server answers one well-formed response (an object
 * with a numeric `headers.status`, below 500 except the documented "not implemented"
 * stubs and the socket-subscription 503) or closes the socket; nothing else. Notifications
 * pushed to the socket (a fuzzed subscription may subscribe it) are skipped, not judged.
 */
import { Packr } from 'msgpackr';
import { RawWs } from '../ws/raw-ws.js';
import { anyClientId, fuzzJson, fuzzString, type FuzzRandom } from './fuzz-gen.js';
import type { FuzzOutcome } from './fuzz-http.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const actions = ['authenticate', 'get_home_doc', 'check_node_health', 'ping_node', 'queue_list', 'queue_create', 'queue_delete',
  'queue_get', 'queue_get_stats', 'queue_purge', 'message_list', 'message_get', 'message_get_many', 'message_post',
  'message_delete', 'message_delete_many', 'claim_create', 'claim_get', 'claim_update', 'claim_delete', 'subscription_create',
  'subscription_list', 'subscription_get', 'subscription_delete', 'pool_list', 'flavor_get', 'no_such_action'];

function envelope(rng: FuzzRandom, project: string): unknown {
  const body: Record<string, unknown> = rng.chance(0.8) ? { queue_name: `q${rng.int(4)}` } : {};
  for (const key of ['messages', 'message_id', 'message_ids', 'claim_id', 'ttl', 'grace', 'limit', 'pop', 'marker', 'echo', 'metadata']) {
    if (rng.chance(0.15)) body[key] = fuzzJson(rng);
  }
  if (rng.chance(0.3)) body['messages'] = [{ body: fuzzJson(rng), ttl: 60 + rng.int(600) }];
  const headers: Record<string, unknown> = { 'Client-ID': anyClientId(rng), 'X-Project-ID': project };
  if (rng.chance(0.1)) headers[fuzzString(rng)] = fuzzJson(rng);
  if (rng.chance(0.05)) headers['URL-Signature'] = '00';
  return { action: rng.chance(0.95) ? rng.pick(actions) : fuzzJson(rng), headers: rng.chance(0.95) ? headers : fuzzJson(rng),
    body: rng.chance(0.9) ? body : fuzzJson(rng) };
}

type Frame = { readonly data: Uint8Array | string; readonly isBinary: boolean; readonly kind: string };

function fuzzFrame(rng: FuzzRandom, project: string): Frame {
  switch (rng.int(8)) {
    case 0: return { data: JSON.stringify(fuzzJson(rng)), isBinary: false, kind: 'json-any' };
    case 1: return { data: rng.bytes(1 + rng.int(40)), isBinary: true, kind: 'bytes' };
    case 2: {
      const packed = packr.pack(envelope(rng, project));
      return { data: packed.subarray(0, rng.int(packed.length)), isBinary: true, kind: 'msgpack-truncated' };
    }
    case 3: return { data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), isBinary: false, kind: 'bad-utf8' };
    case 4:
    case 5: return { data: packr.pack(envelope(rng, project)), isBinary: true, kind: 'msgpack' };
    default: return { data: JSON.stringify(envelope(rng, project)), isBinary: false, kind: 'json' };
  }
}

export class WsFuzzer {
  private ws: RawWs | undefined;
  readonly closeCodes = new Map<number, number>();

  constructor(private readonly url: string, private readonly project: string) {}

  async once(rng: FuzzRandom): Promise<FuzzOutcome> {
    this.ws ??= await RawWs.open(this.url);
    const ws = this.ws;
    const frame = fuzzFrame(rng, this.project);
    const what = `ws ${frame.kind} ${typeof frame.data === 'string' ? frame.data.slice(0, 300) : Buffer.from(frame.data).toString('hex').slice(0, 300)}`;
    if (frame.isBinary) ws.sendBinary(frame.data as Uint8Array);
    else ws.sendText(typeof frame.data === 'string' ? frame.data : Buffer.from(frame.data));
    try {
      let reply = await ws.next();
      // A fuzzed subscription_create may subscribe this socket to a queue; a later fuzzed post
      // to it then pushes a notification, which may arrive before the reply it is waiting for.
      while (isNotification(reply.document)) reply = await ws.next();
      return judge(reply.document, what);
    } catch (error) {
      if (ws.isOpen) return { ok: false, what: `${what}: no reply (${String(error)})` };
      const closed = await ws.closed;
      this.closeCodes.set(closed.code, (this.closeCodes.get(closed.code) ?? 0) + 1);
      this.ws = undefined;
      return { ok: true, what };
    }
  }

  async close(): Promise<void> {
    await this.ws?.close();
  }
}

/** A message pushed to a subscribed socket (zaqar-ws-protocol notifications), not a response. */
function isNotification(document: unknown): boolean {
  const pushed = document as { Message_Type?: unknown; queue_name?: unknown } | undefined;
  return pushed?.Message_Type === 'Notification' && typeof pushed.queue_name === 'string';
}

function judge(document: unknown, what: string): FuzzOutcome {
  const reply = document as { headers?: { status?: unknown }; body?: { error?: unknown; exception?: unknown }; request?: { action?: unknown } };
  const status = reply?.headers?.status;
  if (typeof status !== 'number') return { ok: false, what: `${what}: reply without a status: ${JSON.stringify(document).slice(0, 300)}` };
  if (status < 500) return { ok: true, what };
  const isStub = status === 500 && reply.body?.error === 'Unexpected error.' && /is not implemented$/.test(String(reply.body?.exception));
  const isSocketSubscription = status === 503 && reply.request?.action === 'subscription_create';
  return isStub || isSocketSubscription ? { ok: true, what } : { ok: false, what: `${what}: ${JSON.stringify(document).slice(0, 300)}` };
}

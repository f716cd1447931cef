/**
 * The checks every `/v2` request passes before its operation runs, in the reference's
 * order (zaqar-api-v2.md §1.4): signed URL, url-encoded body, Accept, Client-ID,
 * project, queue name, EXTRA-SPEC, policy. `executeOperation` is the single entry point both
 * transports call; it establishes the CallerContext (project, normalised Client-ID,
 * roles) and then runs the operation. Errors are thrown, never rendered here.
 */
import { BrokerError } from './errors.js';
import { isValidSignedRequest } from './signed-urls.js';
import { checkQueueName } from './validation.js';
import type { ApiCall, ApiDeps, ApiReply, ApiRequest, CallerContext, Operation } from './operation.js';
import type { ApiOptions } from './api-options.js';
import { authenticateRequest } from './auth/authenticate-request.js';
import { checkQuotas, hasQuotas } from './quotas.js';

/** Policy rules that need the admin role; every other rule admits any caller (§1.9). */
const adminRules = new Set(['health:get', 'pools:get_all', 'pools:create', 'pools:get', 'pools:update', 'pools:delete',
  'flavors:create', 'flavors:update', 'flavors:delete']);

export async function executeOperation(api: ApiDeps, operation: Operation, request: ApiRequest): Promise<ApiReply> {
  // Without an auth strategy or quotas those steps pass everything: skip their awaits on the hot path.
  const authenticated = api.auth === undefined ? { ok: true as const, request } : await authenticateRequest(api, { operation, request });
  if (!authenticated.ok) return authenticated.reply;
  const caller = checkRequest(api, operation, authenticated.request);
  const call: ApiCall = { request: authenticated.request, caller, api };
  if (hasQuotas(api.options)) await checkQuotas(call, operation.policy);
  return operation.run(call);
}

/** Runs the common checks 1–9 and returns who is calling. */
export function checkRequest(api: ApiDeps, operation: Operation, request: ApiRequest): CallerContext {
  const headers = request.headers;
  checkSignature(api, request);
  if (request.body !== null && (headers['content-type'] ?? '').trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    throw new BrokerError('invalid_content_type',
      'Endpoint does not accept `application/x-www-form-urlencoded` content; currently supported media type is ' +
      '`application/json`; specify proper client-side media type with the "Content-Type" header.');
  }
  if (!acceptsJson(headers['accept'])) {
    throw new BrokerError('not_acceptable',
      'Endpoint only serves `application/json`; specify client-side media type support with the "Accept" header.');
  }
  if (!operation.isScoped) return { project: '', clientId: '', roles: [] };
  const clientId = normaliseClientId(headers['client-id'], api.options);
  const project = headers['x-project-id'] ?? headers['x-tenant-id'] ?? headers['x-tenant'];
  if (project === '') {
    throw new BrokerError('empty_project',
      'X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry.');
  }
  if (project === undefined) throw new BrokerError('missing_project', 'The header X-PROJECT-ID was missing');
  if (operation.hasQueue) checkQueueName(request.params['queue_name'], project);
  checkExtraSpec(headers['extra-spec']);
  const roles = (headers['x-roles'] ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (adminRules.has(operation.policy) && !roles.some((r) => r.toLowerCase() === 'admin')) {
    throw new BrokerError('not_authorized', 'You are not authorized to complete this action.');
  }
  return { project, clientId, roles };
}

/**
 * `EXTRA-SPEC: <plugin>:<value>` (§1.2): only the no-op `messagecode` plugin exists; the
 * reference fails the request with a 500 for any other, which we keep (no client sends it).
 */
function checkExtraSpec(extraSpec: string | undefined): void {
  if (extraSpec === undefined || extraSpec === '') return;
  const plugin = extraSpec.split(':')[0] ?? '';
  if (plugin !== '' && plugin !== 'messagecode') throw new Error(`No EXTRA-SPEC plugin named ${plugin}`);
}

function checkSignature(api: ApiDeps, request: ApiRequest): void {
  const signature = request.headers['url-signature'];
  if (signature === undefined || signature === '') return;
  const isValid = isValidSignedRequest(api.options.signedUrlSecretKey, {
    method: request.method,
    path: request.path,
    signature,
    methodsHeader: request.headers['url-methods'] ?? '',
    pathsHeader: request.headers['url-paths'] ?? '',
    expiresHeader: request.headers['url-expires'] ?? '',
    project: request.headers['x-project-id'] ?? null,
  }, api.clock.nowMs());
  if (!isValid) throw new BrokerError('signature_rejected');
}

/** Whether an `Accept` header admits `application/json` (absent: yes). */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === '*/*' || type === 'application/*' || type === 'application/json' || type === '*';
  });
}

/**
 * Validates the Client-ID (§1.3) and returns the form used for echo comparisons: in
 * strict mode the lower-case dashed UUID, so every spelling of one UUID is one client.
 */
export function normaliseClientId(raw: string | undefined, options: ApiOptions): string {
  if (raw === undefined) throw new BrokerError('missing_client_id', 'The "Client-Id" header is required.');
  const uuid = parseUuid(raw);
  if (options.clientIdUuidSafe === 'strict') {
    if (uuid === undefined) throw new BrokerError('malformed_client_id', 'Malformed hexadecimal UUID.');
    return uuid;
  }
  if (raw.length < options.minLengthClientId || raw.length > options.maxLengthClientId) {
    throw new BrokerError('client_id_length',
      `Length of client id must be at least ${options.minLengthClientId} and no greater than ${options.maxLengthClientId}.`);
  }
  return uuid ?? raw;
}

/** The form parseUuid returns; most clients send it as is (a fast path, skipping the rewriting below). */
const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Python's `uuid.UUID(str)`: optional urn:/uuid: prefixes and braces, dashes anywhere. */
export function parseUuid(raw: string): string | undefined {
  if (raw.length === 36 && canonicalUuid.test(raw)) return raw;
  let text = raw.replace(/^urn:/, '').replace(/^uuid:/, '');
  text = text.replace(/^\{+|\}+$/g, '').replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(text)) return undefined;
  const h = text.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

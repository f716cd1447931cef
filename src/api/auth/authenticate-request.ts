/**
 * The Keystone step in front of the §1.4 checks (zaqar-api-v2.md §1.2: "Keystone token
 * validation (401) happens before all of these"). With an AuthStrategy configured, a
 * scoped request either carries an identity its transport already established (an
 * authenticated WebSocket) or an `X-Auth-Token` validated here; the project and roles
 * headers the later checks read are then replaced by the token's, so a client cannot
 * name another project or claim a role. Exempt, as in the reference: `GET /` (not
 * scoped) and requests carrying `URL-Signature`, whose signature the next step
 * verifies (client-sent roles are dropped from those). Deliberately NOT exempt: the
 * reference's `EXTRA-SPEC` bypass, which would let any request skip authentication.
 *
 * A refused token is answered with keystonemiddleware's own 401 body, not Zaqar's.
 */
import type { ApiDeps, ApiReply, ApiRequest, Operation } from '../operation.js';
import { AuthenticationFailed, type Identity } from './auth-strategy.js';

export type Authenticated = { readonly ok: true; readonly request: ApiRequest } | { readonly ok: false; readonly reply: ApiReply };

/** Headers that only the identity service may set once authentication is on. */
const identityHeaders = new Set(['x-project-id', 'x-tenant-id', 'x-tenant', 'x-roles']);

export async function authenticateRequest(api: ApiDeps, call: { operation: Operation; request: ApiRequest }): Promise<Authenticated> {
  const { operation, request } = call;
  const auth = api.auth;
  if (auth === undefined || !operation.isScoped) return { ok: true, request };
  const signature = request.headers['url-signature'];
  if (signature !== undefined && signature !== '') {
    const { 'x-roles': _roles, ...headers } = request.headers;
    return { ok: true, request: { ...request, headers } };
  }
  let identity: Identity;
  try {
    identity = request.identity ?? (await auth.authenticate(request.headers['x-auth-token']));
  } catch (error) {
    if (!(error instanceof AuthenticationFailed)) throw error;
    return { ok: false, reply: unauthorizedReply(auth.wwwAuthenticate) };
  }
  return { ok: true, request: { ...request, identity, headers: withIdentity(request.headers, identity) } };
}

function withIdentity(headers: Readonly<Record<string, string>>, identity: Identity): Record<string, string> {
  const replaced: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!identityHeaders.has(name)) replaced[name] = value;
  replaced['x-project-id'] = identity.project;
  replaced['x-roles'] = identity.roles.join(',');
  return replaced;
}

/** keystonemiddleware's rejection, byte for byte the shape python clients parse. */
export function unauthorizedReply(wwwAuthenticate: string): ApiReply {
  return {
    status: 401,
    headers: { 'www-authenticate': wwwAuthenticate },
    body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
  };
}

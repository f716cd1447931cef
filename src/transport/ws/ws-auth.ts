/**
 * The WebSocket authentication gate (zaqar-websocket.md §5 step 5 and §7) for
 * `auth_strategy = keystone`. A socket starts unauthenticated; an `authenticate` frame
 * validates its `X-Auth-Token` and, on success, keeps the identity for later frames and
 * asks the session to close the socket with 4003 when the token expires (a new
 * `authenticate` replaces that deadline). Until then only signed message frames pass
 * (§7.3). Hardened beyond the reference: a frame of an authenticated socket naming a
 * project other than the token's is refused, since storage would otherwise follow
 * the frame's header.
 */
import { AuthenticationFailed, type AuthStrategy, type Identity } from '../../api/auth/auth-strategy.js';
import { BrokerError } from '../../api/errors.js';
import type { WsReply } from './action-table.js';
import type { WsRequest } from './protocol.js';
import { notAuthentified } from './ws-error-reply.js';

/** What a session keeps about its authentication. */
export interface WsAuthState {
  identity: Identity | undefined;
  isPending: boolean;
  /** The session arms (or re-arms) its close at `identity.expiresAtMs`. */
  readonly onAuthenticated: (identity: Identity) => void;
}

export const authenticateEcho = { action: 'authenticate', body: {}, headers: {}, api: 'v2' };

/** Runs an `authenticate` frame: 200 Authentified., or Keystone's status with "Authentication failed.". */
export async function authenticateSocket(auth: AuthStrategy, request: WsRequest, state: WsAuthState | undefined): Promise<WsReply> {
  if (state === undefined || state.isPending) return notAuthentified;
  state.isPending = true;
  try {
    const identity = await auth.authenticate(headerOf(request, 'x-auth-token'));
    state.identity = identity;
    state.onAuthenticated(identity);
    return { status: 200, body: { message: 'Authentified.' } };
  } catch (error) {
    if (error instanceof AuthenticationFailed) return { status: 401, body: { error: 'Authentication failed.' } };
    const status = error instanceof BrokerError ? error.status : 500;
    return { status, body: { error: 'Authentication failed.' } };
  } finally {
    state.isPending = false;
  }
}

/** Whether a non-`authenticate` frame may run (and as whom), or the 403 to answer. */
export function gateFrame(request: WsRequest, state: WsAuthState | undefined, isSigned: boolean):
  { readonly refusal: WsReply } | { readonly identity: Identity | undefined } {
  const identity = state?.identity;
  if (identity === undefined || state?.isPending === true) return isSigned ? { identity: undefined } : { refusal: notAuthentified };
  if (isSigned) return { identity: undefined };
  const project = headerOf(request, 'x-project-id');
  if (project !== undefined && project !== identity.project) return { refusal: notAuthentified };
  return { identity };
}

/** A frame header by its lower-case name (frame header keys keep the client's case). */
function headerOf(request: WsRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

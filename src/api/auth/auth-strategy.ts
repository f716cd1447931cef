/**
 * Who a request acts as when the node authenticates its clients. `auth_strategy`
 * picks the implementation: `noauth` (no AuthStrategy at all: the client names its
 * project and roles in headers) or `keystone` (KeystoneAuth: the project and roles come
 * from a validated token). Transports and `executeOperation` only see this interface.
 */

/** The identity a validated token carries. */
export interface Identity {
  readonly project: string;
  readonly roles: readonly string[];
  readonly userId: string;
  /** Wall-clock instant the token stops being valid (epoch ms). */
  readonly expiresAtMs: number;
}

/** A token was refused: the client answers with the identity service's status (normally 401). */
export class AuthenticationFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthenticationFailed';
  }
}

export interface AuthStrategy {
  readonly name: 'keystone';
  /** `WWW-Authenticate` of a 401, naming where to get a token (keystonemiddleware's `Keystone uri="..."`). */
  readonly wwwAuthenticate: string;
  /**
   * The identity of a token; rejects with AuthenticationFailed when the token is
   * missing, invalid, expired or revoked, and with a BrokerError `service_unavailable`
   * when the identity service cannot answer.
   */
  authenticate(token: string | undefined): Promise<Identity>;
}

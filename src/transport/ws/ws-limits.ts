/**
 * Per-socket bounds of the WebSocket transport, set from config (units in the names).
 * Kept free of uWS so config and the composition root can name them.
 */
export interface WsLimits {
  /** Frames above this many bytes close the connection (uWS `maxPayloadLength`). */
  readonly maxPayloadBytes: number;
  /** Unsent bytes uWS may hold per socket (uWS `maxBackpressure`); a reply dropped beyond it closes the socket. */
  readonly maxBackpressureBytes: number;
  /** Seconds without traffic before uWS closes the socket (automatic pings keep healthy clients alive). */
  readonly idleTimeoutSeconds: number;
  /** Requests of one socket running at once. */
  readonly inFlightPerSocketMax: number;
  /** Requests of one socket waiting to start; beyond it the socket is closed with `policyCloseCode`. */
  readonly queuedPerSocketMax: number;
  /** Frame bytes of those waiting requests; beyond it the socket is closed the same way. Default 8 MiB. */
  readonly queuedBytesPerSocketMax?: number;
}

export const defaultWsLimits: WsLimits = {
  maxPayloadBytes: 1024 * 1024,
  maxBackpressureBytes: 1024 * 1024,
  idleTimeoutSeconds: 120,
  inFlightPerSocketMax: 64,
  queuedPerSocketMax: 1024,
  queuedBytesPerSocketMax: 8 * 1024 * 1024,
};

/** WebSocket close code for a client that outruns its bounds (too many frames queued, or not reading replies). */
export const policyCloseCode = 1008;

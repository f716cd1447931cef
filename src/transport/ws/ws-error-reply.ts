/**
 * The WebSocket form of an error (zaqar-websocket.md §4): the status and description
 * come from the one catalogue mapping (`describeError` in ../error-reply.ts); only the
 * body shape differs from HTTP. Action-level failures are `{"exception": <text>,
 * "error": <summary or null>}`; a rejected pre-signed request is the protocol-level
 * 403 `{"error": "Not authentified."}`; anything unexpected is 500 "Unexpected error.".
 */
import { BrokerError } from '../../api/errors.js';
import { describeError, type ErrorLogger } from '../error-reply.js';
import type { WsReply } from './action-table.js';

const unavailableSuffix = ' Please try again in a few seconds.';

export const notAuthentified: WsReply = { status: 403, body: { error: 'Not authentified.' } };

export function wsErrorReply(error: unknown, context: { requestId: string; log: ErrorLogger; summary: string | null }):
  WsReply {
  if (error instanceof BrokerError && error.code === 'signature_rejected') return notAuthentified;
  const described = describeError(error, context);
  const { title, description } = described.document;
  if (!(error instanceof BrokerError)) {
    return { status: 500, body: { exception: description ?? title, error: 'Unexpected error.' } };
  }
  const text = description ?? title;
  let exception = text;
  let summary = context.summary;
  if (error.code === 'invalid_request_body') exception = `Bad request. ${text}`;
  if (described.status === 403 || error.code === 'claim_id_malformed' || error.code === 'message_not_claimed') {
    summary ??= text;
  }
  if (described.status === 503) summary ??= text.endsWith(unavailableSuffix) ? text.slice(0, -unavailableSuffix.length) : text;
  return { status: described.status, body: { exception, error: summary } };
}

/** Declared in the schema but not offered by this server (yet): never leave the client without a frame. */
export function notImplementedReply(action: string): WsReply {
  return { status: 500, body: { exception: `${action} is not implemented`, error: 'Unexpected error.' } };
}

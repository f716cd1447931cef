/**
 * Claim operations (zaqar-api-v2.md §8): create (201 with Location, or 204 when
 * nothing was claimable), get, renew, release. Claim semantics (oldest first, best
 * effort, lifetime extension by grace, dead-lettering) are the broker's; this file
 * validates ttl/grace/limit and renders. Message hrefs in claim replies always end
 * with `?claim_id=<id>`, where python-zaqarclient reads the claim id.
 */
import { brokerCall } from './broker-call.js';
import { BrokerError, invalidRequest } from './errors.js';
import { reply, type ApiCall, type Operation } from './operation.js';
import { queueRef } from './queues.js';
import { hasContent, objectBody } from './request-body.js';
import { claimPath, renderClaim, renderMessage } from './render.js';
import { optionalIntField, queryInt } from './validation.js';
import { isWellFormedId } from '../common/ids.js';
import type { ClaimRecord } from '../cluster/records.js';

const claimTtlMinSeconds = 60;
const claimGraceMinSeconds = 60;
const defaultClaimLimit = 10;

function claimOperation(policy: string, run: Operation['run']): Operation {
  return { policy, hasQueue: true, isScoped: true, run };
}

/** ttl and grace from an optional body, with the config defaults (sanitize's spec). */
function claimParams(call: ApiCall, isBodyRequired: boolean): { ttlSeconds: number; graceSeconds: number } {
  const { options } = call.api;
  let ttlSeconds = options.defaultClaimTtlSeconds;
  let graceSeconds = options.defaultClaimGraceSeconds;
  if (isBodyRequired || hasContent(call.request)) {
    const { parsed, object } = objectBody(call.request);
    ttlSeconds = optionalIntField(parsed, object, 'ttl') ?? ttlSeconds;
    graceSeconds = optionalIntField(parsed, object, 'grace') ?? graceSeconds;
  }
  if (!(ttlSeconds >= claimTtlMinSeconds && ttlSeconds <= options.maxClaimTtlSeconds)) {
    throw invalidRequest(`The TTL for a claim may not exceed ${options.maxClaimTtlSeconds} seconds, and must be at least 60 seconds long.`);
  }
  return { ttlSeconds, graceSeconds };
}

function claimNotFound(call: ApiCall, claimId: string): BrokerError {
  const ref = queueRef(call);
  return new BrokerError('not_found', `Claim ${claimId} does not exist in queue ${ref.queue} for project ${ref.project}`);
}

/** `POST .../claims[?limit=]`: 201 + Location with the claimed messages, or 204 (§8.1). */
export const createClaim = claimOperation('claims:create', async (call) => {
  const { options, broker, clock } = call.api;
  const limit = queryInt(call.request.query, 'limit');
  const { ttlSeconds, graceSeconds } = claimParams(call, false);
  if (limit !== undefined && !(limit > 0 && limit <= options.maxMessagesPerClaimOrPop)) {
    throw invalidRequest(`Limit must be at least 1 and may not be greater than ${options.maxMessagesPerClaimOrPop}.`);
  }
  if (!(graceSeconds >= claimGraceMinSeconds && graceSeconds <= options.maxClaimGraceSeconds)) {
    throw invalidRequest(`The grace for a claim may not exceed ${options.maxClaimGraceSeconds} seconds, and must be at least 60 seconds long.`);
  }
  const ref = queueRef(call);
  const claim = await brokerCall('Claim could not be created.',
    () => broker.createClaim(ref, { limit: limit ?? defaultClaimLimit, ttlSeconds, graceSeconds }));
  if (claim === null || claim.messages.length === 0) return reply(204);
  const nowMs = clock.nowMs();
  return reply(201, { messages: claimedMessages(ref.queue, claim, nowMs) }, { location: claimPath(ref.queue, claim.id) });
});

function claimedMessages(queue: string, claim: ClaimRecord, nowMs: number): ReturnType<typeof renderMessage>[] {
  return claim.messages.map((m) => renderMessage(queue, { ...m, claimId: claim.id }, nowMs));
}

/** `GET .../claims/{id}`: age, ttl, href and held messages; 404 unless active (§8.2). */
export const getClaim = claimOperation('claims:get', async (call) => {
  const claimId = call.request.params['claim_id'] ?? '';
  if (!isWellFormedId(claimId)) throw claimNotFound(call, claimId);
  const ref = queueRef(call);
  const claim = await brokerCall('Claim could not be queried.', () => call.api.broker.getClaim(ref, claimId));
  if (claim === null || claim.messages.length === 0) throw claimNotFound(call, claimId);
  const withIds: ClaimRecord = { ...claim, messages: claim.messages.map((m) => ({ ...m, claimId: claim.id })) };
  return reply(200, renderClaim(ref.queue, withIds, call.api.clock.nowMs()));
});

/** `PATCH .../claims/{id}`: renews ttl/grace (body required); 204, or 404 unless active (§8.3). */
export const renewClaim = claimOperation('claims:update', async (call) => {
  const claimId = call.request.params['claim_id'] ?? '';
  const { ttlSeconds, graceSeconds } = claimParams(call, true);
  if (!isWellFormedId(claimId)) throw claimNotFound(call, claimId);
  const ref = queueRef(call);
  const isRenewed = await brokerCall('Claim could not be updated.',
    () => call.api.broker.renewClaim(ref, { claimId, ttlSeconds, graceSeconds }));
  if (!isRenewed) throw claimNotFound(call, claimId);
  return reply(204);
});

/** `DELETE .../claims/{id}`: always 204 (§8.4). */
export const releaseClaim = claimOperation('claims:delete', async (call) => {
  const claimId = call.request.params['claim_id'] ?? '';
  if (!isWellFormedId(claimId)) return reply(204);
  const ref = queueRef(call);
  await brokerCall('Claim could not be deleted.', () => call.api.broker.releaseClaim(ref, claimId));
  return reply(204);
});

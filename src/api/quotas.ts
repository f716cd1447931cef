/**
 * Per-project quotas, beyond Zaqar (operators asked for them): `max_queues_per_project`
 * and `max_messages_per_project`, both off by default. A refused request gets
 * `403 {"title": "Quota exceeded", "description": ...}` — 403 because that is how
 * OpenStack services (nova, cinder) report an exhausted quota and python-zaqarclient
 * raises Forbidden for it; 429 would invite clients to retry what cannot succeed
 * until something is deleted.
 *
 * The checks run before the operation and count what the project holds now, so they
 * are soft: concurrent creates may together pass the limit by their number, and a post
 * is refused once the project holds the limit (one accepted batch may pass it by up to
 * its size). Counting walks the project's queues (and their stats for messages): its
 * cost grows with the project's queue count, which is why both quotas are opt-in.
 */
import { BrokerError } from './errors.js';
import type { ApiOptions } from './api-options.js';
import type { ApiCall } from './operation.js';

const pageLimit = 100;

/** Whether any quota is configured (checkQuotas does nothing otherwise). */
export function hasQuotas(options: ApiOptions): boolean {
  return options.maxQueuesPerProject !== undefined || options.maxMessagesPerProject !== undefined;
}

/** Runs the quota checks that apply to the call's operation (by its policy rule). */
export async function checkQuotas(call: ApiCall, policy: string): Promise<void> {
  const { maxQueuesPerProject, maxMessagesPerProject } = call.api.options;
  if (!hasQuotas(call.api.options)) return;
  if (policy !== 'queues:create' && policy !== 'messages:create') return;
  const { broker } = call.api;
  const project = call.caller.project;
  const queue = call.request.params['queue_name'] ?? '';
  // A post to a missing queue creates it (lazy queues), so it counts against the queue quota too.
  if (maxQueuesPerProject !== undefined && (await broker.getQueueMetadata({ project, queue })) === null) {
    const held = await countQueues(call, maxQueuesPerProject);
    if (held >= maxQueuesPerProject) {
      throw new BrokerError('quota_exceeded',
        `Project ${project} already has ${maxQueuesPerProject} queues, the most allowed. Delete a queue first.`);
    }
  }
  if (policy === 'messages:create' && maxMessagesPerProject !== undefined) {
    const held = await countMessages(call);
    if (held >= maxMessagesPerProject) {
      throw new BrokerError('quota_exceeded',
        `Project ${project} already holds ${held} messages; at most ${maxMessagesPerProject} are allowed. Consume some first.`);
    }
  }
}

/** Queue count of the caller's project, stopping once it reaches `stopAt`. */
async function countQueues(call: ApiCall, stopAt: number): Promise<number> {
  let count = 0;
  for await (const _name of queueNames(call)) {
    count += 1;
    if (count >= stopAt) break;
  }
  return count;
}

async function countMessages(call: ApiCall): Promise<number> {
  let total = 0;
  for await (const queue of queueNames(call)) {
    total += (await call.api.broker.queueStats({ project: call.caller.project, queue })).total;
  }
  return total;
}

async function* queueNames(call: ApiCall): AsyncGenerator<string> {
  let marker: string | undefined;
  for (;;) {
    const page = await call.api.broker.listQueues(call.caller.project, {
      limit: pageLimit, detailed: false, withCount: false, ...(marker === undefined ? {} : { marker }),
    });
    for (const queue of page.queues) yield queue.name;
    const last = page.queues.at(-1);
    if (last === undefined || page.queues.length < pageLimit) return;
    marker = last.name;
  }
}

/**
 * Every operation of the v2 API by name. The names follow the WebSocket actions
 * (zaqar-websocket.md §6) where one exists, so each transport maps its own addressing
 * (HTTP method + path, WS action) onto this one table and no rule is implemented twice.
 */
import { createClaim, getClaim, releaseClaim, renewClaim } from './claims.js';
import { addClusterNode, removeClusterNode } from './cluster-nodes.js';
import { clusterStatus } from './cluster-status.js';
import { health, ping, pingHead } from './health.js';
import { getHome, getVersions } from './home.js';
import { deleteMessage, deleteMessages, getMessage, listMessages, postMessages } from './messages.js';
import type { Operation } from './operation.js';
import { createQueue, deleteQueue, getQueue, listQueues, purgeQueue, queueStats, updateQueue } from './queues.js';
import { shareQueue } from './share.js';

export const operations = {
  get_versions: getVersions,
  get_home_doc: getHome,
  ping_node: ping,
  ping_node_head: pingHead,
  check_node_health: health,
  /** zaqar-ts extension: GET /v2/cluster (admin). */
  cluster_status: clusterStatus,
  /** zaqar-ts extensions: PUT / DELETE /v2/cluster/nodes/{node_id} (admin). */
  cluster_node_add: addClusterNode,
  cluster_node_remove: removeClusterNode,
  queue_list: listQueues,
  queue_create: createQueue,
  queue_get: getQueue,
  queue_update: updateQueue,
  queue_delete: deleteQueue,
  queue_get_stats: queueStats,
  queue_purge: purgeQueue,
  queue_share: shareQueue,
  message_post: postMessages,
  /** List, or get by ids when the `ids` query parameter is present. */
  message_list: listMessages,
  message_get: getMessage,
  /** Bulk delete by `ids` (+ `claim_ids`) or `pop`. */
  message_delete_many: deleteMessages,
  message_delete: deleteMessage,
  claim_create: createClaim,
  claim_get: getClaim,
  claim_update: renewClaim,
  claim_delete: releaseClaim,
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;

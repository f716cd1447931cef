/**
 * Every operation of the v2 API by name. The names follow the WebSocket actions
 * (zaqar-websocket.md §6) where one exists, so each transport maps its own addressing
 * (HTTP method + path, WS action) onto this one table and no rule is implemented twice.
 */
import { createClaim, getClaim, releaseClaim, renewClaim } from './claims.js';
import { addClusterNode, removeClusterNode } from './cluster-nodes.js';
import { clusterStatus } from './cluster-status.js';
import { createFlavor, deleteFlavor, getFlavor, listFlavors, updateFlavor } from './flavors.js';
import { health, ping, pingHead } from './health.js';
import { getHome, getVersions } from './home.js';
import { deleteMessage, deleteMessages, getMessage, listMessages, postMessages } from './messages.js';
import type { Operation } from './operation.js';
import { createPool, deletePool, getPool, listPools, updatePool } from './pools.js';
import { createQueue, deleteQueue, getQueue, listQueues, purgeQueue, queueStats, updateQueue } from './queues.js';
import { shareQueue } from './share.js';
import {
  confirmSubscription,
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
} from './subscriptions.js';
import { onTopic, topicListing, topicMetadata, topicStats } from './topics.js';

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
  subscription_list: listSubscriptions,
  subscription_create: createSubscription,
  subscription_get: getSubscription,
  subscription_update: updateSubscription,
  subscription_delete: deleteSubscription,
  subscription_confirm: confirmSubscription,
  pool_list: listPools,
  pool_create: createPool,
  pool_get: getPool,
  pool_update: updatePool,
  pool_delete: deletePool,
  flavor_list: listFlavors,
  flavor_create: createFlavor,
  flavor_get: getFlavor,
  flavor_update: updateFlavor,
  flavor_delete: deleteFlavor,
  topic_list: onTopic('topics:get_all', listQueues, topicListing),
  topic_create: onTopic('topics:create', createQueue),
  topic_get: onTopic('topics:get', getQueue, topicMetadata),
  topic_update: onTopic('topics:update', updateQueue, topicMetadata),
  topic_delete: onTopic('topics:delete', deleteQueue),
  topic_get_stats: onTopic('topics:stats', queueStats, topicStats),
  topic_purge: onTopic('topics:purge', purgeQueue),
  topic_message_post: onTopic('messages:create', postMessages),
  topic_message_list: onTopic('messages:get_all', listMessages),
  topic_message_get: onTopic('messages:get', getMessage),
  topic_message_delete_many: onTopic('messages:delete_all', deleteMessages),
  topic_message_delete: onTopic('messages:delete', deleteMessage),
  topic_subscription_list: onTopic('subscription:get_all', listSubscriptions),
  topic_subscription_create: onTopic('subscription:create', createSubscription),
  topic_subscription_get: onTopic('subscription:get', getSubscription),
  topic_subscription_update: onTopic('subscription:update', updateSubscription),
  topic_subscription_delete: onTopic('subscription:delete', deleteSubscription),
  topic_subscription_confirm: onTopic('subscription:confirm', confirmSubscription),
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;

/**
 * The composition root, and the only one: config → clock → broker (LMDB shards) → api
 * → HTTP transport. Nothing else builds its own dependencies. `startNode` returns a
 * handle whose `close` stops the listener first and then the broker, so no request
 * reaches a closed store.
 */
import { Registry } from 'prom-client';
import type { Broker } from './api/broker.js';
import { MeasuredBroker } from './api/measured-broker.js';
import type { ApiDeps } from './api/operation.js';
import type { ClusterAddressBook } from './api/cluster-address-book.js';
import { maxBodyBytes } from './api/api-options.js';
import { SystemClock, type Clock } from './common/clock.js';
import { silentLogger, type Logger } from './common/logger.js';
import { SystemDelays } from './common/timers.js';
import type { ClusterMetrics } from './cluster/metrics.js';
import type { LogMetrics } from './log/metrics.js';
import type { RaftMetrics } from './raft/metrics.js';
import { MetricsListener } from './metrics/metrics-listener.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import { NodeOps, type ObservableBroker } from './node-ops.js';
import { drainNode, type DrainReport } from './shutdown.js';
import { ShardedBroker } from './cluster/sharded-broker.js';
import type { NotificationSource } from './cluster/notify/notifier.js';
import { startNotifications, type NotificationService } from './cluster/notify/notification-service.js';
import { confirmationDocument } from './api/subscription-confirmation.js';
import { loadClusterConfig } from './cluster-config.js';
import { ClusterNetwork } from './cluster-network.js';
import type { NodeConfig } from './config.js';
import { defaultNotificationConfig, isNotifierEnabled } from './notification-config.js';
import { buildRoutes } from './transport/http/routes.js';
import { UwsHttpServer } from './transport/http/uws-app.js';
import { mountWebSocket, WsListener, type MountedWebSocket, type WsSessionOptions } from './transport/ws/session.js';
import { defaultWsLimits } from './transport/ws/ws-limits.js';
import { KeystoneAuth } from './api/auth/keystone-auth.js';
import { loadPeerTls } from './raft/grpc/peer-tls.js';
import { advertisedHost } from './transport/ws/socket-subscriptions.js';

export interface ClosableBroker extends Broker, ObservableBroker {
  close(): Promise<void>;
  /** Hands leadership of the shards led here to other replicas (shutdown); absent: nothing to hand over. */
  transferLeadershipAway?(): Promise<void>;
  /** Subscription state and leadership for the notifier; absent: notifications are not delivered. */
  notificationSource?(): NotificationSource;
}

/** An opened broker and, on a clustered node, the cluster's persisted address book (admin add/remove). */
export interface OpenedBroker {
  readonly broker: ClosableBroker;
  readonly addressBook?: ClusterAddressBook;
}

/** Client-ID of messages the notifier forwards into `zaqar://` subscriber queues. */
const forwarderClientId = '00000000-0000-4000-8000-000000000000';

/** Delivers subscriptions' notifications from the shards this node leads (none without a source). */
function startNodeNotifications(config: NodeConfig, deps: { broker: ClosableBroker; clock: Clock; ops: NodeOps; log: (message: string, error: unknown) => void }): NotificationService | undefined {
  const source = deps.broker.notificationSource?.();
  if (source === undefined) return undefined;
  const notification = config.notification ?? defaultNotificationConfig;
  const settings = {
    ...notification,
    deliversMessages: isNotifierEnabled(notification),
    confirmationMail: {
      ...(notification.externalConfirmationUrl === undefined ? {} : { externalConfirmationUrl: notification.externalConfirmationUrl }),
      subscribe: notification.subscriptionConfirmationEmail,
      unsubscribe: notification.unsubscribeConfirmationEmail,
    },
  };
  const secretKey = config.api.signedUrlSecretKey;
  return startNotifications(settings, {
    source,
    clock: deps.clock,
    metrics: deps.ops.metrics.notifications,
    log: deps.log,
    post: async (ref, message) => {
      await deps.broker.postMessages(ref, { clientId: forwarderClientId, messages: [{ ...message, delaySeconds: 0 }] });
    },
    ...(settings.requireConfirmation
      ? {
          confirmation: (key, s, kind) => confirmationDocument(secretKey, {
            project: key.project, queue: key.queue, id: s.id, kind,
            // An unsubscribe notice's link lives a default subscription ttl (spec §9.6).
            expiresMs: kind === 'subscribe' ? s.expiresMs : (s.pendingNotice?.requestedMs ?? s.expiresMs) + 3_600_000,
          }),
        }
      : {}),
  });
}

/** What the broker reports into. */
export interface BrokerObservers {
  readonly metrics: ClusterMetrics;
  readonly logMetrics: LogMetrics;
  readonly raftMetrics?: RaftMetrics;
  /** Cluster events worth an operator's attention (joining, address book pulls, replicas gained, dropped, rebalanced). */
  readonly logger?: Logger;
}

export type BrokerOpener = (config: NodeConfig, clock: Clock, observers?: BrokerObservers) => Promise<OpenedBroker>;

/** Process-wide services the caller (cli.ts, tests) provides; defaults: silent logger, fresh Registry. */
export interface NodeRuntime {
  readonly logger?: Logger;
  readonly registry?: Registry;
}

const defaultDrainTimeoutSeconds = 30;

export interface RunningNode {
  readonly host: string;
  readonly port: number;
  /** Port of the separate WebSocket listener, when one is configured. */
  readonly wsPort?: number;
  /** Port of the separate metrics listener, when one is configured. */
  readonly metricsPort?: number;
  close(): Promise<void>;
  /** The graceful stop of SIGTERM (shutdown.ts): readiness off, drain, flush, close. */
  shutdown(): Promise<DrainReport>;
}

/**
 * The node's shards as Raft groups: a cluster of one without peers, else the static
 * cluster of the config. The broker's close stops the groups, then the cluster network.
 */
const openShardedBroker: BrokerOpener = async (config, clock, observers) => {
  const clusterTls = config.security?.clusterTls;
  const { logger, ...brokerObservers } = observers ?? {};
  const network = await ClusterNetwork.start(config.cluster ?? loadClusterConfig({}, (message) => new Error(message)), {
    clock,
    dataDir: config.dataDir,
    lmdbMapInChunks: config.lmdbMapInChunks ?? true,
    ...(clusterTls === undefined ? {} : { peerTls: loadPeerTls(clusterTls) }),
    ...(logger === undefined ? {} : { logger }),
  });
  try {
    const broker = await ShardedBroker.open({
      dataDir: config.dataDir,
      lmdbMapInChunks: config.lmdbMapInChunks ?? true,
      ...(config.queueStateCommitDelayMs === undefined ? {} : { queueCommitDelayMs: config.queueStateCommitDelayMs }),
      shardCount: config.shardCount,
      clock,
      enableChecksum: config.enableChecksum,
      everyPeerHas: (capability) => network.addressBook?.everyPeerHas(capability) ?? true,
      shardLogs: (stores) => network.openShardLogs(stores, {
        shardCount: config.shardCount,
        ...(observers?.raftMetrics === undefined ? {} : { metrics: observers.raftMetrics }),
        ...(logger === undefined ? {} : { logger }),
      }),
      ...brokerObservers,
    });
    // The broker knows nothing of addresses: the admin API gets the book beside it.
    return network.addressBook === undefined ? { broker } : { broker, addressBook: network.addressBook };
  } catch (error) {
    await network.close();
    throw error;
  }
};

export async function startNode(config: NodeConfig, openBroker: BrokerOpener = openShardedBroker, runtime: NodeRuntime = {}): Promise<RunningNode> {
  const clock = new SystemClock();
  const logger = runtime.logger ?? silentLogger;
  const ops = new NodeOps(new NodeMetrics(runtime.registry ?? new Registry()), logger);
  const { broker, addressBook } = await openBroker(config, clock, { metrics: ops.metrics.cluster, logMetrics: ops.metrics.log, raftMetrics: ops.metrics.raft, logger });
  ops.observe(broker, config.dataDir);
  const keystone = config.security?.keystone;
  const api: ApiDeps = {
    broker: new MeasuredBroker(broker, ops.metrics.api), clock, options: config.api,
    ...(addressBook === undefined ? {} : { addressBook }),
    ...(keystone === undefined ? {} : { auth: new KeystoneAuth(keystone, clock) }),
  };
  const logError = (message: string, error: unknown): void => logger.error({ err: error }, message);
  const wsOptions: WsSessionOptions = { api, limits: config.ws ?? defaultWsLimits, log: logError, metrics: ops.metrics.transport };
  let httpSockets: MountedWebSocket | undefined;
  let httpBaseUrl: string | undefined;
  let wsListener: WsListener | undefined;
  let server: UwsHttpServer;
  try {
    server = await UwsHttpServer.listen({
      host: config.host,
      port: config.port,
      api,
      routes: buildRoutes({ isAdminMode: config.api.adminMode }),
      ...(config.security?.tls === undefined ? {} : { tls: config.security.tls }),
      bodyBytesMax: maxBodyBytes(config.api),
      bodyTimeoutMs: (config.security?.bodyTimeoutSeconds ?? 30) * 1000,
      ...(config.security?.httpRequestsInFlightMax === undefined ? {} : { requestsInFlightMax: config.security.httpRequestsInFlightMax }),
      log: logError,
      metrics: ops.metrics.transport,
      logger,
      plainRoutes: ops.plainRoutes(),
      configureApp: (app) => {
        httpSockets = mountWebSocket(app, { ...wsOptions, pattern: '/', notificationBaseUrl: () => httpBaseUrl });
      },
    });
  } catch (error) {
    await broker.close();
    throw error;
  }
  httpBaseUrl = `http://${advertisedHost(config.host)}:${server.port}`;
  if (config.wsListen !== undefined) {
    try {
      wsListener = await WsListener.listen({ ...wsOptions, ...config.wsListen });
    } catch (error) {
      server.close();
      await broker.close();
      throw error;
    }
  }
  let metricsListener: MetricsListener | undefined;
  if (config.metricsListen !== undefined) {
    try {
      metricsListener = await MetricsListener.listen(config.metricsListen.host, config.metricsListen.port, () => ops.metrics.exposition());
    } catch (error) {
      wsListener?.close();
      server.close();
      await broker.close();
      throw error;
    }
  }
  const notifications = startNodeNotifications(config, { broker, clock, ops, log: logError });
  if (api.auth === undefined) {
    logger.warn({ auth: 'none' }, 'no authentication: every client may act on any project it names in X-Project-Id; '
      + 'serve it only behind an authenticating proxy or on a trusted network');
  } else {
    logger.info({ auth: api.auth.name }, 'clients authenticate with tokens');
  }
  const closeAll = async (): Promise<void> => {
    wsListener?.close();
    httpSockets?.closeAll();
    server.close();
    await metricsListener?.close();
    await notifications?.stop();
    await broker.close();
  };
  return {
    host: config.host,
    port: server.port,
    ...(wsListener === undefined ? {} : { wsPort: wsListener.port }),
    ...(metricsListener === undefined ? {} : { metricsPort: metricsListener.port }),
    close: closeAll,
    shutdown: () => drainNode({
      beginDrain: () => ops.beginDrain(),
      stopAccepting: () => {
        server.drain();
        server.close();
      },
      transferLeadershipAway: () => broker.transferLeadershipAway?.() ?? Promise.resolve(),
      requestsInFlight: () => server.requestsInFlight,
      closeAll,
    }, { deadlineMs: (config.drainTimeoutSeconds ?? defaultDrainTimeoutSeconds) * 1000, clock, delays: new SystemDelays(), logger }),
  };
}

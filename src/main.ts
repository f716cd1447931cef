/**
 * The composition root, and the only one: config → clock → broker (LMDB shards) → api
 * → HTTP transport. Nothing else builds its own dependencies. `startNode` returns a
 * handle whose `close` stops the listener first and then the broker, so no request
 * reaches a closed store.
 */
import type { Broker } from './api/broker.js';
import type { ApiDeps } from './api/operation.js';
import { maxBodyBytes } from './api/api-options.js';
import { SystemClock, type Clock } from './common/clock.js';
import { ShardedBroker } from './cluster/sharded-broker.js';
import type { NodeConfig } from './config.js';
import { buildRoutes } from './transport/http/routes.js';
import { UwsHttpServer } from './transport/http/uws-app.js';
import { mountWebSocket, WsListener, type MountedWebSocket, type WsSessionOptions } from './transport/ws/session.js';
import { defaultWsLimits } from './transport/ws/ws-limits.js';

export interface ClosableBroker extends Broker {
  close(): Promise<void>;
}

export type BrokerOpener = (config: NodeConfig, clock: Clock) => Promise<ClosableBroker>;

export interface RunningNode {
  readonly host: string;
  readonly port: number;
  /** Port of the separate WebSocket listener, when one is configured. */
  readonly wsPort?: number;
  close(): Promise<void>;
}

const openShardedBroker: BrokerOpener = (config, clock) =>
  ShardedBroker.open({ dataDir: config.dataDir, shardCount: config.shardCount, clock, enableChecksum: config.enableChecksum });

export async function startNode(config: NodeConfig, openBroker: BrokerOpener = openShardedBroker): Promise<RunningNode> {
  const clock = new SystemClock();
  const broker = await openBroker(config, clock);
  const api: ApiDeps = { broker, clock, options: config.api };
  const wsOptions: WsSessionOptions = { api, limits: config.ws ?? defaultWsLimits, log: (message, error) => console.error(message, error) };
  let httpSockets: MountedWebSocket | undefined;
  let wsListener: WsListener | undefined;
  let server: UwsHttpServer;
  try {
    server = await UwsHttpServer.listen({
      host: config.host,
      port: config.port,
      api,
      routes: buildRoutes({ isAdminMode: config.api.adminMode }),
      bodyBytesMax: maxBodyBytes(config.api),
      log: (message, error) => console.error(message, error),
      configureApp: (app) => {
        httpSockets = mountWebSocket(app, '/', wsOptions);
      },
    });
  } catch (error) {
    await broker.close();
    throw error;
  }
  if (config.wsListen !== undefined) {
    try {
      wsListener = await WsListener.listen(config.wsListen.host, config.wsListen.port, wsOptions);
    } catch (error) {
      server.close();
      await broker.close();
      throw error;
    }
  }
  return {
    host: config.host,
    port: server.port,
    ...(wsListener === undefined ? {} : { wsPort: wsListener.port }),
    async close() {
      wsListener?.close();
      httpSockets?.closeAll();
      server.close();
      await broker.close();
    },
  };
}

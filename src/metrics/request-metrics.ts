/**
 * Prometheus side of the transport, api and notification metrics: request counters
 * and latency histograms for HTTP (by route template, method, status) and WebSocket
 * (by action, status), open WebSocket sessions, message traffic, notifications.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApiMetrics, NotificationMetrics } from '../api/metrics.js';
import type { HttpRequestOutcome, TransportMetrics, WsRequestOutcome } from '../transport/metrics.js';

/** Request latency buckets: 1 ms (a cached read) to 10 s (a stalled commit). */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class PromTransportMetrics implements TransportMetrics {
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpSeconds: Histogram<'route' | 'method'>;
  private readonly wsRequests: Counter<'action' | 'status'>;
  private readonly wsSeconds: Histogram<'action'>;
  private readonly wsSessions: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.httpRequests = new Counter({
      name: 'zaqar_transport_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'zaqar_transport_http_request_duration_seconds',
      help: 'Time from a complete HTTP request to its reply, by route template and method.',
      labelNames: ['route', 'method'],
      buckets: latencyBuckets,
      registers,
    });
    this.wsRequests = new Counter({
      name: 'zaqar_transport_ws_requests_total',
      help: 'WebSocket requests answered, by action and status.',
      labelNames: ['action', 'status'],
      registers,
    });
    this.wsSeconds = new Histogram({
      name: 'zaqar_transport_ws_request_duration_seconds',
      help: 'Time from a WebSocket request frame to its reply, by action.',
      labelNames: ['action'],
      buckets: latencyBuckets,
      registers,
    });
    this.wsSessions = new Gauge({ name: 'zaqar_transport_ws_sessions', help: 'Open WebSocket sessions.', registers });
  }

  httpRequest(outcome: HttpRequestOutcome): void {
    this.httpRequests.inc({ route: outcome.route, method: outcome.method, status: String(outcome.status) });
    this.httpSeconds.observe({ route: outcome.route, method: outcome.method }, outcome.seconds);
  }

  wsRequest(outcome: WsRequestOutcome): void {
    this.wsRequests.inc({ action: outcome.action, status: String(outcome.status) });
    this.wsSeconds.observe({ action: outcome.action }, outcome.seconds);
  }

  wsSessionOpened(): void {
    this.wsSessions.inc();
  }

  wsSessionClosed(): void {
    this.wsSessions.dec();
  }
}

export class PromApiMetrics implements ApiMetrics {
  private readonly posted: Counter;
  private readonly claimed: Counter;
  private readonly deleted: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.posted = new Counter({ name: 'zaqar_api_messages_posted_total', help: 'Messages posted (acknowledged).', registers });
    this.claimed = new Counter({ name: 'zaqar_api_messages_claimed_total', help: 'Messages handed out by claims.', registers });
    this.deleted = new Counter({
      name: 'zaqar_api_messages_deleted_total',
      help: 'Messages deleted by id (single or bulk) or popped.',
      registers,
    });
  }

  messagesPosted(count: number): void {
    this.posted.inc(count);
  }

  messagesClaimed(count: number): void {
    this.claimed.inc(count);
  }

  messagesDeleted(count: number): void {
    this.deleted.inc(count);
  }
}

export class PromNotificationMetrics implements NotificationMetrics {
  private readonly deliveries: Counter<'kind'>;
  private readonly failures: Counter<'kind'>;
  private readonly pending: Gauge;
  private readonly passedOver: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.deliveries = new Counter({
      name: 'zaqar_notification_deliveries_total',
      help: 'Notifications delivered, by subscriber kind (URI scheme).',
      labelNames: ['kind'],
      registers,
    });
    this.failures = new Counter({
      name: 'zaqar_notification_failures_total',
      help: 'Notification deliveries that failed, by subscriber kind (URI scheme).',
      labelNames: ['kind'],
      registers,
    });
    this.pending = new Gauge({ name: 'zaqar_notification_backlog', help: 'Notifications waiting for delivery.', registers });
    this.passedOver = new Counter({
      name: 'zaqar_notification_skipped_total',
      help: 'Messages not notified because message_pipeline lacks zaqar.notification.notifier, by subscriber kind.',
      labelNames: ['kind'],
      registers,
    });
  }

  delivered(subscriberKind: string): void {
    this.deliveries.inc({ kind: subscriberKind });
  }

  deliveryFailed(subscriberKind: string): void {
    this.failures.inc({ kind: subscriberKind });
  }

  backlog(count: number): void {
    this.pending.set(count);
  }

  skipped(subscriberKind: string, count: number): void {
    this.passedOver.inc({ kind: subscriberKind }, count);
  }
}

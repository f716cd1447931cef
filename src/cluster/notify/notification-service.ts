/**
 * Builds the node's notifier from its settings: the senders by scheme (webhook, SMTP
 * when a host is configured, queue forwarding) behind one router, and the Notifier on
 * the broker's NotificationSource. main.ts calls `startNotifications` and stops it before
 * the broker closes.
 */
import type { Clock } from '../../common/clock.js';
import { SystemDelays, SystemTimers, type Delays, type Timers } from '../../common/timers.js';
import type { ConfirmationMailSettings } from './confirmation-mail.js';
import { MailSender } from './mail-sender.js';
import type { NotificationSender } from './notification.js';
import { Notifier, type NotificationSource, type NotifierDeps, type NotifierMetrics, type NotifierOptions } from './notifier.js';
import { QueueForwarder, type PostMessage } from './queue-forwarder.js';
import { SenderRouter } from './sender-router.js';
import { WebhookSender } from './webhook-sender.js';

export interface NotificationSettings {
  readonly requireConfirmation: boolean;
  /** `message_pipeline` has the notifier stage: posted messages are notified. */
  readonly deliversMessages: boolean;
  readonly smtpHost?: string;
  readonly smtpPort: number;
  readonly smtpSender: string;
  readonly webhookTimeoutSeconds: number;
  /** Confirmation e-mails to mailto: subscribers. */
  readonly confirmationMail: ConfirmationMailSettings;
}

export interface NotificationServiceDeps {
  readonly source: NotificationSource;
  readonly post: PostMessage;
  readonly clock: Clock;
  readonly metrics: NotifierMetrics;
  readonly log: (message: string, error: unknown) => void;
  readonly confirmation?: NotifierDeps['confirmation'];
  readonly timers?: Timers;
  readonly delays?: Delays;
  readonly options?: Partial<NotifierOptions>;
}

export interface NotificationService {
  readonly notifier: Notifier;
  stop(): Promise<void>;
}

export function startNotifications(settings: NotificationSettings, deps: NotificationServiceDeps): NotificationService {
  const timeoutMs = settings.webhookTimeoutSeconds * 1000;
  const webhook = new WebhookSender({ timeoutMs });
  const mail = settings.smtpHost === undefined
    ? undefined
    : new MailSender({ host: settings.smtpHost, port: settings.smtpPort, sender: settings.smtpSender, timeoutMs, confirmation: settings.confirmationMail });
  const byKind: Record<string, NotificationSender> = { http: webhook, https: webhook, zaqar: new QueueForwarder(deps.post) };
  if (mail !== undefined) byKind['mailto'] = mail;
  const notifier = new Notifier({
    source: deps.source,
    sender: new SenderRouter(byKind),
    clock: deps.clock,
    timers: deps.timers ?? new SystemTimers(),
    delays: deps.delays ?? new SystemDelays(),
    metrics: deps.metrics,
    log: deps.log,
    ...(deps.confirmation === undefined ? {} : { confirmation: deps.confirmation }),
  }, { ...deps.options, requireConfirmation: settings.requireConfirmation, deliversMessages: settings.deliversMessages });
  return {
    notifier,
    stop: async () => {
      await notifier.stop();
      mail?.close();
    },
  };
}

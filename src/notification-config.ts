/**
 * The notification part of the node configuration: Zaqar's `[notification]` group
 * (confirmation, SMTP for mailto: subscribers, confirmation e-mail templates, webhook
 * timeout) and `[storage] message_pipeline`, whose `zaqar.notification.notifier` stage
 * switches message notifications on (zaqar-semantics.md §9.1, §9.6, §9.7, §12).
 *
 * Difference from the reference: `message_pipeline` defaults to the notifier stage (the
 * reference's default `[]` delivers nothing), because every zaqar-ts deployment so far
 * expects delivery. config.ts hands the flattened option record here (section options
 * arrive as `notification.option`); every value is checked, so a misspelt stage or a
 * malformed template fails the start.
 */
import type { MailTemplate } from './cluster/notify/confirmation-mail.js';

/** The only stage of the message pipeline zaqar-ts has: the notifier. */
const notifierStage = 'zaqar.notification.notifier';

/** `[notification]` options and the message pipeline. */
export interface NotificationConfig {
  /** `require_confirmation`: deliver only to confirmed subscriptions, send confirmation requests. */
  readonly requireConfirmation: boolean;
  /** `message_pipeline`: stage names; messages are notified only with the notifier stage. */
  readonly messagePipeline: readonly string[];
  /** `smtp_host` / `smtp_port`; no host: mailto: deliveries fail (and are retried, then given up). */
  readonly smtpHost?: string;
  readonly smtpPort: number;
  /** `smtp_sender`: `From` of notification mails without `options.from`. */
  readonly smtpSender: string;
  /** `webhook_timeout_seconds`: one webhook attempt's limit (default 5). */
  readonly webhookTimeoutSeconds: number;
  /** `external_confirmation_url`: the page confirmation e-mails link to; unset: no confirmation e-mails. */
  readonly externalConfirmationUrl?: string;
  readonly subscriptionConfirmationEmail: MailTemplate;
  readonly unsubscribeConfirmationEmail: MailTemplate;
}

/** Zaqar 15's `subscription_confirmation_email_template` default. */
const defaultSubscriptionConfirmationEmail: MailTemplate = {
  topic: 'Zaqar Notification - Subscription Confirmation',
  body: 'You have chosen to subscribe to the queue: {0}. This queue belongs to project: {1}. '
    + 'To confirm this subscription, click or visit this link below: {2}',
  sender: 'Zaqar Notifications <no-reply@openstack.org>',
};

/** Zaqar 15's `unsubscribe_confirmation_email_template` default. */
const defaultUnsubscribeConfirmationEmail: MailTemplate = {
  topic: 'Zaqar Notification - Unsubscribe Confirmation',
  body: 'You have unsubscribed successfully to the queue: {0}. This queue belongs to project: {1}. '
    + 'To resubscribe this subscription, click or visit this link below: {2}',
  sender: 'Zaqar Notifications <no-reply@openstack.org>',
};

export const defaultNotificationConfig: NotificationConfig = {
  requireConfirmation: false,
  messagePipeline: [notifierStage],
  smtpPort: 25,
  smtpSender: 'zaqar@localhost',
  webhookTimeoutSeconds: 5,
  subscriptionConfirmationEmail: defaultSubscriptionConfirmationEmail,
  unsubscribeConfirmationEmail: defaultUnsubscribeConfirmationEmail,
};

/** Option name → kind, for config.ts's list of known options ('any': checked here). */
export const notificationOptionKinds = {
  message_pipeline: 'any',
  'notification.require_confirmation': 'boolean',
  'notification.smtp_host': 'string',
  'notification.smtp_port': 'positive',
  'notification.smtp_sender': 'string',
  'notification.webhook_timeout_seconds': 'positive',
  'notification.external_confirmation_url': 'string',
  'notification.subscription_confirmation_email_template': 'any',
  'notification.unsubscribe_confirmation_email_template': 'any',
} as const;

type Fail = (message: string) => Error;

/** Whether notifications of posted messages are delivered (`message_pipeline` has the notifier). */
export function isNotifierEnabled(config: NotificationConfig): boolean {
  return config.messagePipeline.includes(notifierStage);
}

/** Reads the options above from the flattened file/env record; kinds of the typed ones were checked by config.ts. */
export function loadNotificationConfig(file: Readonly<Record<string, unknown>>, fail: Fail): NotificationConfig {
  const value = (name: string): unknown => file[`notification.${name}`];
  const smtpHost = value('smtp_host');
  const externalConfirmationUrl = value('external_confirmation_url');
  const defaults = defaultNotificationConfig;
  return {
    requireConfirmation: value('require_confirmation') === true,
    messagePipeline: file['message_pipeline'] === undefined ? defaults.messagePipeline : stageList(file['message_pipeline'], fail),
    ...(typeof smtpHost === 'string' ? { smtpHost } : {}),
    smtpPort: (value('smtp_port') as number | undefined) ?? defaults.smtpPort,
    smtpSender: (value('smtp_sender') as string | undefined) ?? defaults.smtpSender,
    webhookTimeoutSeconds: (value('webhook_timeout_seconds') as number | undefined) ?? defaults.webhookTimeoutSeconds,
    ...(typeof externalConfirmationUrl === 'string' ? { externalConfirmationUrl } : {}),
    subscriptionConfirmationEmail: template('subscription_confirmation_email_template', value('subscription_confirmation_email_template'), fail),
    unsubscribeConfirmationEmail: template('unsubscribe_confirmation_email_template', value('unsubscribe_confirmation_email_template'), fail),
  };
}

/** A list of stage names, or one comma-separated string of them (oslo ListOpt); only known stages. */
function stageList(raw: unknown, fail: Fail): string[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) {
    throw fail(`option message_pipeline must be a list of stage names or a comma-separated string, got ${JSON.stringify(raw)}`);
  }
  const stages = items.map((item) => item.trim()).filter((item) => item !== '');
  const unknown = stages.find((stage) => stage !== notifierStage);
  if (unknown !== undefined) throw fail(`option message_pipeline: unknown stage ${JSON.stringify(unknown)} (zaqar-ts has only ${notifierStage})`);
  return stages;
}

/** An e-mail template object; keys left out keep the default's value (the reference would fail on them). */
function template(name: 'subscription_confirmation_email_template' | 'unsubscribe_confirmation_email_template', raw: unknown, fail: Fail): MailTemplate {
  const base = name === 'subscription_confirmation_email_template' ? defaultSubscriptionConfirmationEmail : defaultUnsubscribeConfirmationEmail;
  if (raw === undefined) return base;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(`option notification.${name} must be an object with topic, body and sender, got ${JSON.stringify(raw)}`);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const wrong = entries.find(([key, v]) => !['topic', 'body', 'sender'].includes(key) || typeof v !== 'string');
  if (wrong !== undefined) throw fail(`option notification.${name}: ${JSON.stringify(wrong[0])} must be one of topic, body, sender with a string value`);
  return { ...base, ...(Object.fromEntries(entries) as Partial<MailTemplate>) };
}

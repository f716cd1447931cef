/**
 * Webhook delivery (zaqar-semantics.md §9.3): `POST <subscriber>` with
 * `Content-Type: application/json` plus `options.post_headers`; the body is the JSON
 * document, or `options.post_data` (a string) with every `"$zaqar_message$"` (quotes
 * included) replaced by that JSON. Success is a 2xx answer within `timeoutMs`; a
 * timeout, a connection error or any other status is a DeliveryError.
 */
import { DeliveryError, type NotificationDocument, type NotificationSender, type NotificationTarget } from './notification.js';

const templateMarker = '"$zaqar_message$"';

export function webhookBody(document: NotificationDocument, options: Readonly<Record<string, unknown>>): string {
  const json = JSON.stringify(document);
  const template = options['post_data'];
  return typeof template === 'string' ? template.split(templateMarker).join(json) : json;
}

export function webhookHeaders(options: Readonly<Record<string, unknown>>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const extra = options['post_headers'];
  if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) {
    for (const [name, value] of Object.entries(extra)) {
      if (typeof value === 'string' || typeof value === 'number') headers[name.toLowerCase()] = String(value);
    }
  }
  return headers;
}

export class WebhookSender implements NotificationSender {
  constructor(private readonly options: { readonly timeoutMs: number }) {}

  async send(target: NotificationTarget, document: NotificationDocument): Promise<void> {
    let status: number;
    try {
      const response = await fetch(target.subscriber, {
        method: 'POST',
        headers: webhookHeaders(target.options),
        body: webhookBody(document, target.options),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'manual',
      });
      status = response.status;
      await response.body?.cancel();
    } catch (cause) {
      throw new DeliveryError(`webhook POST failed: ${String(cause)}`, { cause });
    }
    if (status < 200 || status >= 300) throw new DeliveryError(`webhook answered ${status}`);
  }
}

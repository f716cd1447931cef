/**
 * `mailto:` delivery (zaqar-semantics.md §9.7) over SMTP with nodemailer: the mail's
 * text is the JSON notification document, `To` the address, `From` `options.from` or
 * the configured sender, `Subject` the URI's `subject` parameter, else
 * `options.subject`, else empty. Confirmation documents go out as the templated e-mail
 * of confirmation-mail.ts instead. A refused or failed SMTP exchange is a DeliveryError.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { confirmationMail, type ConfirmationMailSettings } from './confirmation-mail.js';
import { DeliveryError, type NotificationDocument, type NotificationSender, type NotificationTarget } from './notification.js';

export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  /** Default `From` when the subscription has no `options.from`. */
  readonly sender: string;
  readonly timeoutMs: number;
  /** How (un)subscribe confirmation documents become e-mails (confirmation-mail.ts). */
  readonly confirmation: ConfirmationMailSettings;
}

/** Address and subject of a `mailto:` URI. */
export function parseMailto(subscriber: string): { address: string; subject: string | undefined } {
  const rest = subscriber.replace(/^mailto:/i, '');
  const [address = '', query = ''] = rest.split('?', 2);
  const subject = new URLSearchParams(query).get('subject') ?? undefined;
  return { address: decodeURIComponent(address), subject };
}

export class MailSender implements NotificationSender {
  private readonly transport: Transporter;

  constructor(private readonly smtp: SmtpOptions) {
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      connectionTimeout: smtp.timeoutMs,
      greetingTimeout: smtp.timeoutMs,
      socketTimeout: smtp.timeoutMs,
    });
  }

  async send(target: NotificationTarget, document: NotificationDocument): Promise<void> {
    const { address, subject } = parseMailto(target.subscriber);
    const from = typeof target.options['from'] === 'string' ? target.options['from'] : this.smtp.sender;
    const optionSubject = typeof target.options['subject'] === 'string' ? target.options['subject'] : '';
    const mail = confirmationMail(document, { address, queue: target.queue }, this.smtp.confirmation)
      ?? { from, to: address, subject: subject ?? optionSubject, text: JSON.stringify(document) };
    try {
      await this.transport.sendMail(mail);
    } catch (cause) {
      throw new DeliveryError(`mail to ${address} failed: ${String(cause)}`, { cause });
    }
  }

  close(): void {
    this.transport.close();
  }
}

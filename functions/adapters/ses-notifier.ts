/**
 * The e-mail channel of the Notifier port on Amazon SES: one plain-text message per
 * notification, from the sender address the stack configures (`REKEY_EMAIL_FROM`). SES's
 * classic `SendEmail` (Query protocol, 2010-12-01), sent through aws-call.ts rather than the
 * SDK's SES client: the same request, signed and retried by the same SDK parts, without the
 * client's cold-start cost (docs/decisions.md, "Cold start, ninth pass").
 */
import { UnavailableError } from '#core/errors.ts';
import type { Notification, Notifier } from '#core/ports.ts';
import { ENV } from '#functions/contracts.ts';
import type { AwsCaller } from './aws-call.ts';
import { serviceFailure } from './service-errors.ts';

/** SES's API version for `SendEmail`. */
export const SES_API_VERSION = '2010-12-01';

/** `SendEmail`'s parameters, as the SDK's Query serializer flattens them. */
export function sendEmailParams(from: string, notification: Notification): Record<string, string> {
  return {
    Source: from,
    'Destination.ToAddresses.member.1': notification.to,
    'Message.Subject.Data': notification.subject,
    'Message.Subject.Charset': 'UTF-8',
    'Message.Body.Text.Data': notification.text,
    'Message.Body.Text.Charset': 'UTF-8',
  };
}

export class SesNotifier implements Notifier {
  constructor(
    private readonly ses: AwsCaller,
    /** A verified SES identity. Undefined fails each send, not the cold start (see send). */
    private readonly from: string | undefined,
  ) {}

  /** Sends one e-mail; any SES failure (and a missing sender) becomes an UnavailableError. */
  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'email') {
      throw new Error(`SesNotifier sends e-mail only, not ${notification.channel}`);
    }
    // Checked here rather than in the constructor: a function that never sends e-mail, or a
    // local run, must not fail to start for want of a sender address.
    if (!this.from) {
      throw new UnavailableError(`E-mail notifications are not configured (${ENV.emailFrom} is not set).`);
    }
    try {
      await this.ses.query('SendEmail', SES_API_VERSION, sendEmailParams(this.from, notification));
    } catch (error) {
      throw serviceFailure('e-mail service', error);
    }
  }
}

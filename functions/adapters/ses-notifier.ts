/**
 * The e-mail channel of the Notifier port on Amazon SES: one plain-text message per
 * notification, from the sender address the stack configures (`REKEY_EMAIL_FROM`). SES's
 * classic API, not v2: its client adds ~23 KB to a bundle where v2's adds ~60 KB, and the
 * reset functions must stay under 350 KB.
 */
import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { UnavailableError } from '#core/errors.ts';
import type { Notification, Notifier } from '#core/ports.ts';
import { ENV } from '#functions/contracts.ts';
import { serviceFailure } from './service-errors.ts';

export class SesNotifier implements Notifier {
  constructor(
    private readonly client: SESClient,
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
      await this.client.send(
        new SendEmailCommand({
          Source: this.from,
          Destination: { ToAddresses: [notification.to] },
          Message: {
            Subject: { Data: notification.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: notification.text, Charset: 'UTF-8' } },
          },
        }),
      );
    } catch (error) {
      throw serviceFailure('e-mail service', error);
    }
  }
}

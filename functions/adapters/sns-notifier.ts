/**
 * The phone channel of the Notifier port on Amazon SNS: an SMS published straight to the
 * user's E.164 number, marked Transactional so SNS favours delivery over cost.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '#core/ports.ts';
import { serviceFailure } from './service-errors.ts';

export class SnsNotifier implements Notifier {
  constructor(private readonly client: SNSClient) {}

  /** Sends one SMS (the text only: an SMS has no subject); SNS failures become UnavailableErrors. */
  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'phone') {
      throw new Error(`SnsNotifier sends SMS only, not ${notification.channel}`);
    }
    try {
      await this.client.send(
        new PublishCommand({
          PhoneNumber: notification.to,
          Message: notification.text,
          MessageAttributes: {
            // Promotional messages may be dropped or delayed; a password the user waits for may not.
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          },
        }),
      );
    } catch (error) {
      throw serviceFailure('SMS service', error);
    }
  }
}

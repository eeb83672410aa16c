/**
 * The phone channel of the Notifier port on Amazon SNS: an SMS published straight to the
 * user's E.164 number, marked Transactional so SNS favours delivery over cost. SNS's `Publish`
 * (Query protocol, 2010-03-31) through aws-call.ts, as ses-notifier.ts explains.
 */
import type { Notification, Notifier } from '#core/ports.ts';
import type { AwsCaller } from './aws-call.ts';
import { serviceFailure } from './service-errors.ts';

/** SNS's API version for `Publish`. */
export const SNS_API_VERSION = '2010-03-31';

/** `Publish`'s parameters for one SMS, as the SDK's Query serializer flattens them. */
export function publishSmsParams(notification: Notification): Record<string, string> {
  return {
    // The SDK's order (its schema's), so the body is the one its client sends, byte for byte.
    Message: notification.text,
    PhoneNumber: notification.to,
    // Promotional messages may be dropped or delayed; a password the user waits for may not.
    'MessageAttributes.entry.1.Name': 'AWS.SNS.SMS.SMSType',
    'MessageAttributes.entry.1.Value.DataType': 'String',
    'MessageAttributes.entry.1.Value.StringValue': 'Transactional',
  };
}

export class SnsNotifier implements Notifier {
  constructor(private readonly sns: AwsCaller) {}

  /** Sends one SMS (the text only: an SMS has no subject); SNS failures become UnavailableErrors. */
  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'phone') {
      throw new Error(`SnsNotifier sends SMS only, not ${notification.channel}`);
    }
    try {
      await this.sns.query('Publish', SNS_API_VERSION, publishSmsParams(notification));
    } catch (error) {
      throw serviceFailure('SMS service', error);
    }
  }
}

/**
 * The Notifier that notifying Lambda functions use in AWS: e-mail through SES, SMS through
 * SNS, each caller created once per container.
 */
import type { Notification, NotificationChannel, Notifier } from '#core/ports.ts';
import { createAwsCaller, SES, SNS } from './aws-call.ts';
import type { ClientOptions } from './aws-clients.ts';
import { SesNotifier } from './ses-notifier.ts';
import { emailFromEnv } from './settings.ts';
import { SnsNotifier } from './sns-notifier.ts';

/** Sends each notification through the notifier of its channel. */
export class ChannelNotifier implements Notifier {
  constructor(private readonly channels: Readonly<Record<NotificationChannel, Notifier>>) {}

  send(notification: Notification): Promise<void> {
    return this.channels[notification.channel].send(notification);
  }
}

/**
 * A channel's notifier, built on its first send and kept for the container's life: most calls
 * ask for no notification or for one channel, and nothing is resolved (region, endpoint,
 * credentials) for a channel that is never used.
 */
function onFirstSend(build: () => Notifier): Notifier {
  let notifier: Notifier | undefined;
  return {
    send(notification) {
      notifier ??= build();
      return notifier.send(notification);
    },
  };
}

/**
 * SES for `email`, SNS for `phone`, each caller built on its channel's first send. The sender address defaults to `REKEY_EMAIL_FROM`; when it
 * is unset, e-mail sends fail (as UnavailableErrors) while SMS still work.
 */
export function createAwsNotifier(
  options: ClientOptions = {},
  emailFrom: string | undefined = emailFromEnv(),
): Notifier {
  return new ChannelNotifier({
    email: onFirstSend(() => new SesNotifier(createAwsCaller(SES, options), emailFrom)),
    phone: onFirstSend(() => new SnsNotifier(createAwsCaller(SNS, options))),
  });
}

/** E-mail only (SES), for functions that never send SMS. */
export function createEmailNotifier(
  options: ClientOptions = {},
  emailFrom: string | undefined = emailFromEnv(),
): Notifier {
  return onFirstSend(() => new SesNotifier(createAwsCaller(SES, options), emailFrom));
}

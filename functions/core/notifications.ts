/**
 * Telling a user their new temporary password through the channels an admin names. The
 * notification is the one place a generated password may go besides the vault: to the
 * user's own e-mail address or phone, never to the caller.
 */
import { type IssuedTemporaryPassword, issueTemporaryPassword } from './credentials.ts';
import { InvalidInputError, UnavailableError } from './errors.ts';
import type { CredentialKind, Realm, User } from './model.ts';
import type { Notification, NotificationChannel, Notifier, RekeyConfig, UseCaseDeps } from './ports.ts';

/** Where one notification goes. */
export interface Recipient {
  channel: NotificationChannel;
  to: string;
}

const CHANNEL_WORDS: Record<NotificationChannel, string> = { email: 'e-mail address', phone: 'phone number' };

/**
 * The user's address on each channel. A channel the user has no address on is a 400 naming
 * `field`, raised before anything is generated or written.
 */
export function recipientsFor(
  user: User,
  channels: readonly NotificationChannel[],
  field: string,
): Recipient[] {
  return channels.map((channel) => {
    const to = channel === 'email' ? user.email : user.phone;
    if (!to) {
      throw new InvalidInputError(
        `The user has no ${CHANNEL_WORDS[channel]}, so it cannot be notified by ${channel}.`,
        { field, reason: 'NoNotificationAddress' },
      );
    }
    return { channel, to };
  });
}

/**
 * The end user's page for one user, with the realm and the username filled in: what a
 * notification or a ticket result links to. Never a password. Undefined when no page is
 * configured (the page's own query words are the adapter's: functions/adapters/password-page-link.ts).
 */
export function passwordPageLink(
  config: Pick<RekeyConfig, 'passwordPageLink'>,
  realm: Pick<Realm, 'name'>,
  user: Pick<User, 'username'>,
): string | undefined {
  return config.passwordPageLink?.(realm, user);
}

/**
 * What the user reads: the password, when it expires, that it must be changed and, when a
 * page is configured, where to change it.
 */
export function temporaryPasswordNotification(
  recipient: Recipient,
  user: Pick<User, 'username'>,
  password: string,
  expiresAt: string,
  link?: string,
): Notification {
  const subject = 'Your new temporary password';
  const text =
    recipient.channel === 'phone'
      ? `Temporary password for ${user.username}: ${password} (expires ${expiresAt}; change it at your next sign-in).${link ? ` Choose your own now: ${link}` : ''}`
      : [
          `Hello ${user.username},`,
          '',
          'An administrator has reset your password. Your temporary password is:',
          '',
          `    ${password}`,
          '',
          `It expires at ${expiresAt}. You will be asked to choose a new password when you next sign in.`,
          ...(link ? ['', 'You can also choose it now, on this page:', '', `    ${link}`] : []),
        ].join('\n');
  return { channel: recipient.channel, to: recipient.to, subject, text };
}

/** The result of notifying every recipient: the channels that could not be reached. */
export interface NotificationOutcome {
  failed: NotificationChannel[];
}

/**
 * Sends the password to every recipient, each independently: one channel failing does not
 * keep the other from being tried. Failures are logged (channel and error name only) and
 * returned; deciding what they mean is the caller's business.
 */
export async function sendTemporaryPassword(
  deps: Pick<UseCaseDeps, 'log'> & { notifier: Notifier },
  recipients: readonly Recipient[],
  user: Pick<User, 'userId' | 'username'>,
  password: string,
  expiresAt: string,
  link?: string,
): Promise<NotificationOutcome> {
  const results = await Promise.allSettled(
    recipients.map((r) =>
      deps.notifier.send(temporaryPasswordNotification(r, user, password, expiresAt, link)),
    ),
  );
  const failed: NotificationChannel[] = [];
  results.forEach((result, i) => {
    const channel = recipients[i]?.channel;
    if (result.status === 'fulfilled' || !channel) return;
    failed.push(channel);
    deps.log.warn('notification not sent', { userId: user.userId, channel, error: errorName(result.reason) });
  });
  return { failed };
}

/** The 503 of a reset whose password is safe in the vault but could not be delivered. */
export function undeliveredPasswordError(
  userId: string,
  secretId: string,
  failed: readonly NotificationChannel[],
): UnavailableError {
  return new UnavailableError(
    `The password of user ${userId} was reset, but it could not be sent by ${failed.join(' and ')}. ` +
      `The new password is held in the vault as secret ${secretId}; read it from there, or reset again.`,
    { reason: 'NotificationFailed' },
  );
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Generates the password into the vault and the user's credential, then tells it to
 * `recipients` from memory (never read back), with the page's link: the steps every issue
 * shares, whoever asked (an admin route, a ticket). Returns what was issued and the channels
 * that failed; the caller decides what a failed channel means.
 */
export async function issueAndTell(
  deps: UseCaseDeps,
  to: { user: User; realm: Realm; recipients: Recipient[] },
  requestId: string,
  options: { kind?: CredentialKind },
): Promise<{ issued: IssuedTemporaryPassword; link: string | undefined; failed: NotificationChannel[] }> {
  const { user, realm, recipients } = to;
  const issued = await issueTemporaryPassword(deps, user, realm, requestId, options);
  const link = passwordPageLink(deps.config, realm, user);
  const { failed } = await sendTemporaryPassword(
    deps,
    recipients,
    user,
    issued.password,
    issued.expiresAt,
    link,
  );
  return { issued, link, failed };
}

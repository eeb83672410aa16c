/**
 * The note rekey leaves on a ticket, in one place: what was done, through which channels the
 * user was told, the secret's ARN for the help desk and the expiry — or why it failed. Never a
 * password: a note is built only from a result event's fields, and no result carries one.
 *
 * A note is a template with `<field>` placeholders, as EventBridge input transformers write
 * them: the stacks give the template to each connector's rule as is, and the local deliverer
 * fills it with `fillTemplate`, so a note reads the same in AWS and locally.
 */
import { DETAIL_TYPES } from '../contracts.ts';

/** The result event fields a note may name, as input transformer paths. */
export const NOTE_FIELDS = {
  completed: {
    ticketId: '$.detail.ticketId',
    operation: '$.detail.operation',
    userId: '$.detail.userId',
    notified: '$.detail.notified',
    passwordSecretId: '$.detail.passwordSecretId',
    expiresAt: '$.detail.expiresAt',
    passwordPageUrl: '$.detail.passwordPageUrl',
  },
  failed: {
    ticketId: '$.detail.ticketId',
    code: '$.detail.code',
    message: '$.detail.message',
  },
} as const;

export type NoteKind = keyof typeof NOTE_FIELDS;

/** The note kind of a result event's detail type. */
export function noteKindOf(detailType: string): NoteKind | undefined {
  if (detailType === DETAIL_TYPES.completed) return 'completed';
  if (detailType === DETAIL_TYPES.failed) return 'failed';
  return undefined;
}

/** The note template of a result kind. */
export function noteTemplate(kind: NoteKind): string {
  return kind === 'completed'
    ? 'rekey: <operation> done for user <userId>. The user was told through: <notified>. ' +
        'The new password is only in Secrets Manager, secret <passwordSecretId> (help desk: read it there if the user cannot be reached); ' +
        'it expires at <expiresAt>. Where the user chooses their own password (empty when rekey has no page for it): <passwordPageUrl> . ' +
        'rekey never writes a password on a ticket.'
    : 'rekey could not reset the password for this ticket (<code>): <message>';
}

/**
 * A template with each `<field>` replaced by the field's value as it is, as EventBridge fills an
 * input template: it does not escape what it puts inside a JSON string ("EventBridge doesn't
 * escape values extracted by Input Path", its guide's common issues). So the result events carry
 * only text a JSON string can hold as it is (`noteSafe` in functions/core/tickets.ts), and a body
 * that a field would break is broken here too, where the tests can see it. A field the values
 * lack is left empty.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/<([A-Za-z]+)>/g, (_match, name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : value === undefined ? '' : String(value);
  });
}

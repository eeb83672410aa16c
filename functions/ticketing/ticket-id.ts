/**
 * A ticket id (`123`, `INC0012345`, `SD-7`, a ServiceNow sys_id): the ticket's idempotency key,
 * repeated in log lines, result events and audit records, and a path segment of the reply call
 * (`…/request/{ticketId}/comment`). One rule for the ticket worker's events, a narrower one for
 * the intake's (connectors' tickets, the only ones rekey replies to).
 */
import * as z from 'zod/mini';

/**
 * 1–64 characters of `characters`, not made of dots alone: `encodeURIComponent` leaves `.` and
 * `..` as they are and the URL resolves them, so a ticket id `..` posted rekey's note, with its
 * reply credential, to `…/comment`, another of the ticketing system's endpoints.
 */
function ticketId(characters: RegExp, message: string) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(64),
    z.regex(characters, message),
    z.refine((id) => !/^\.+$/.test(id), 'may not be made of dots alone'),
  );
}

/** Any ticket the worker takes: printable ASCII, no space. */
export const ticketIdText = ticketId(
  /^[\x21-\x7e]+$/,
  'may contain only printable ASCII characters without spaces',
);

/**
 * A connector's ticket (the intake's body): only what a URL path carries without encoding —
 * letters, digits, `.`, `_` and `-`. In AWS an API destination puts the id in place of the
 * reply URL's `*`, and AWS does not document that it encodes it. Zendesk's ids are numbers,
 * Jira's keys `SD-7`, ServiceNow's sys_ids hexadecimal.
 */
export const connectorTicketIdText = ticketId(
  /^[A-Za-z0-9._-]+$/,
  'may contain only letters, digits, ".", "_" and "-"',
);

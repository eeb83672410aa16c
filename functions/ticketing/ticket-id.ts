/**
 * A ticket id (`123`, `INC0012345`, `SD-7`, a ServiceNow sys_id), one rule for the ticket
 * intake's body and the ticket worker's event: 1–64 printable ASCII characters, no space, and
 * not made of dots alone. It is the ticket's idempotency key, it goes into log lines, result
 * events and audit records, and it is a path segment of the reply call
 * (`…/request/{ticketId}/comment`), where `encodeURIComponent` leaves `.` and `..` as they
 * are and the URL resolves them: a ticket id `..` posted rekey's note, with its reply
 * credential, to `…/comment`, another of the ticketing system's endpoints.
 */
import * as z from 'zod/mini';

export const ticketIdText = z.string().check(
  z.minLength(1),
  z.maxLength(64),
  z.regex(/^[\x21-\x7e]+$/, 'may contain only printable ASCII characters without spaces'),
  z.refine((id) => !/^\.+$/.test(id), 'may not be made of dots alone'),
);

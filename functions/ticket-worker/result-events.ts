/**
 * The result events' details as the bus carries them: the contract their readers (the
 * connectors' rules, the tests) hold the worker to. A module of its own, which the worker does
 * not load: it builds the details typed, and a schema in its import graph would be built at
 * every cold start for nothing (docs/decisions.md, "Cold start, fifth pass").
 */
import * as z from 'zod/mini';
import { TICKET_OPERATIONS } from '#core/tickets.ts';

/** The detail of `PasswordResetCompleted`, as the bus carries it. */
export const passwordResetCompleted = z.strictObject({
  ticketId: z.string(),
  operation: z.enum(TICKET_OPERATIONS),
  userId: z.string(),
  passwordSecretId: z.string(),
  expiresAt: z.iso.datetime(),
  notified: z.string(),
  connectorId: z.optional(z.string()),
  /** The first result, answered again for a repeated request: no connector posts it. */
  repeated: z.optional(z.literal(true)),
  /** The end user's page, prefilled for the user (when one is configured): for the ticket's note. */
  passwordPageUrl: z.optional(z.url()),
});

/** The detail of `PasswordResetFailed`, as the bus carries it. */
export const passwordResetFailed = z.strictObject({
  ticketId: z.string(),
  operation: z.optional(z.enum(TICKET_OPERATIONS)),
  code: z.string(),
  message: z.string(),
  connectorId: z.optional(z.string()),
  /** The first result, answered again for a repeated request: no connector posts it. */
  repeated: z.optional(z.literal(true)),
});

/**
 * Lambda entry point of `POST /20160918/users/{userId}/uiPassword` (Oracle IAM, seed 000).
 * Parse → (once per opc-retry-token) operation (the seed in rekey's verbs) → UIPassword without its password.
 */

import { idempotent } from '#adapters/idempotency.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import type { AdminPrincipal } from '#core/model.ts';
import { oci } from '#dialects/oci.ts';
import { adminPrincipal } from '#http/admin.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import { header, jsonBody, parseInput } from '#http/request.ts';
import { createOrResetUiPassword, type UiPasswordResult } from './operation.ts';
import { uiPasswordRequest } from './schema.ts';

interface ResetInput {
  key: string;
  fingerprint: string;
  admin: AdminPrincipal;
  userId: string;
  requestId: string;
}

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  const reset = (input: Omit<ResetInput, 'key' | 'fingerprint'>) =>
    createOrResetUiPassword(deps, input.admin, input);
  const resetOnce = idempotent((input: ResetInput) => reset(input), {
    client: runtime.dynamoDb,
    tableName: runtime.settings.tableName,
    scope: 'oci-ui-password',
    keyName: 'opc-retry-token',
  });

  const observe = observing(runtime, {
    operation: 'create-or-reset-ui-password',
    activity: 'reset',
    actor: 'admin',
    success: 'PasswordIssued',
  });
  return httpHandler({ dialect: oci, logger, observe }, async ({ event, context, requestId, note }) => {
    const admin = adminPrincipal(event);
    const request = parseInput(uiPasswordRequest, {
      userId: event.pathParameters?.userId,
      'opc-retry-token': header(event, 'opc-retry-token'),
      body: jsonBody(event),
    });
    // OCI names no realm: the admin's is the one the user must be in. The user is named once
    // the directory has found them (a refusal's subject, or the user reset): never as typed.
    note.target = { realmId: admin.realmId };
    const input = { admin, userId: request.userId, requestId };
    const token = request['opc-retry-token'];
    // Unambiguous: a realm id never holds "/" (adminPrincipal refuses a claim that is not an id),
    // so a token of another realm cannot name this realm's record (`demo/rt` + `x` was `demo` + `rt/x`).
    let result: UiPasswordResult;
    if (token) {
      const once = await resetOnce(
        { ...input, key: `${admin.realmId}/${token}`, fingerprint: request.userId },
        context,
      );
      result = once.result;
      note.replayed = once.replayed;
    } else {
      result = await reset(input);
    }
    const { etag, ...body } = result;
    note.target.userId = body.userId;
    return { body, headers: { etag } };
  });
}

export const handler = createHandler(createRuntime('create-or-reset-ui-password'));

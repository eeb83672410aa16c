/**
 * Lambda entry point of `GET /v2/{project_id}/users/{user_id}/random-password` (Huawei IAM,
 * seed 002). Method → admin → parse → operation (the seed in rekey's verbs) → the secret's id and expiry, never the password.
 */
import { createAwsNotifier } from '#adapters/aws-notifier.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { huawei } from '#dialects/huawei.ts';
import { adminPrincipal } from '#http/admin.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import { jsonBody, parseInput, queryParameters } from '#http/request.ts';
import { resetRandomPassword } from './operation.ts';
import { channelsOf, randomPasswordQuery, randomPasswordRequest } from './schema.ts';

const IAM = huawei('IAM');

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  const query = Object.keys(randomPasswordQuery.shape);
  const observe = observing(runtime, {
    operation: 'reset-random-password',
    activity: 'reset',
    actor: 'admin',
    success: 'PasswordIssued',
  });
  // The route receives every method so that the others get a 405 in Huawei's body.
  const served = { dialect: IAM, logger, query, observe, method: 'GET' };
  return httpHandler(served, async ({ event, requestId, note }) => {
    const admin = adminPrincipal(event);
    const request = parseInput(randomPasswordRequest, {
      project_id: event.pathParameters?.project_id,
      user_id: event.pathParameters?.user_id,
      body: jsonBody(event),
    });
    // The token's realm; the user once the directory has found them (a refusal's subject, or
    // the user reset below): never an id as typed, which may be a password in the wrong field.
    note.target = { realmId: admin.realmId };
    const query = parseInput(randomPasswordQuery, queryParameters(event));
    const result = await resetRandomPassword(deps, admin, {
      projectId: request.project_id,
      userId: request.user_id,
      channels: channelsOf(query.notification_type),
      requestId,
    });
    note.target.userId = request.user_id;
    // `Cache-Control: no-store` is on every response (jsonResponse): this GET changes state.
    return { body: { password_secret_id: result.passwordSecretId, expires_at: result.expiresAt } };
  });
}

export const handler = createHandler(
  createRuntime('reset-random-password', { notifier: createAwsNotifier() }),
);

/**
 * Lambda entry point of `PUT /20160918/changepassword` (Oracle IAM, seed 001). A public
 * route: the caller authenticates with the current password, not a token.
 * Parse (query or JSON body, never both) → use case → 200 with an empty body.
 */
import { createEmailNotifier } from '#adapters/aws-notifier.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { InvalidInputError } from '#core/errors.ts';
import { changeOwnPassword } from '#core/use-cases/change-own-password.ts';
import { oci } from '#dialects/oci.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import { type HttpEvent, jsonBody, parseInput, queryParameters } from '#http/request.ts';
import { changePasswordRequest } from './schema.ts';

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  // The seed's query parameters; the shared pipeline refuses any other.
  const observe = observing(runtime, {
    operation: 'change-password',
    activity: 'change',
    actor: 'self',
    success: 'PasswordChanged',
  });
  return httpHandler(
    { dialect: oci, logger, query: Object.keys(changePasswordRequest.shape), observe },
    async ({ event, note }) => {
      const { tenancy, ...request } = parseInput(changePasswordRequest, parametersOf(event));
      // OCI's `tenancy` (an OCID or a tenancy name) is the realm, by id or by name. The audit
      // record names the user the directory found (the refusal's subject, or the changed user),
      // never the username as typed: a password typed into the username field must not reach
      // the audit trail.
      note.target = await changeOwnPassword(deps, { ...request, realm: tenancy });
      return {};
    },
  );
}

/**
 * The parameters, from the JSON body (preferred: query strings end up in access logs) or
 * from the seed's query string. Both at once is refused rather than merged: which one
 * would win is exactly the kind of guess a password route must not make.
 */
function parametersOf(event: HttpEvent): unknown {
  const query = queryParameters(event);
  const body = jsonBody(event);
  if (body === undefined) return query;
  if (Object.keys(query).length > 0) {
    throw new InvalidInputError(
      'Give the parameters either in the query string or in a JSON body, not both.',
      { reason: 'InvalidParameter' },
    );
  }
  return body;
}

// The change notice goes by e-mail only, so the SNS client stays out of this bundle.
export const handler = createHandler(createRuntime('change-password', { notifier: createEmailNotifier() }));

/**
 * Lambda entry point of `POST /cloudsso/2021-05-15/ResetUserPassword` (Alibaba CloudSSO,
 * seed 003). Parameters from the query string, a form body or a JSON body (one of them) →
 * operation (the seed in rekey's verbs) → `{RequestId, NewPasswordSecretId, NewPasswordSecretExpiresAt}` or `{RequestId}`.
 */
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { InvalidInputError } from '#core/errors.ts';
import { alibaba } from '#dialects/alibaba.ts';
import { adminPrincipal } from '#http/admin.ts';
import { httpHandler } from '#http/http-handler.ts';
import {
  bodyText,
  contentType,
  formBody,
  type HttpEvent,
  jsonBody,
  parseInput,
  queryParameters,
} from '#http/request.ts';
import { type NewPasswordChoice, resetUserPassword } from './operation.ts';
import {
  PARAMETER_NAMES,
  REQUIRED_PARAMETERS,
  type ResetUserPasswordRequest,
  type ResetUserPasswordResponse,
  resetUserPasswordRequest,
} from './schema.ts';

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  return httpHandler({ dialect: alibaba, logger, query: PARAMETER_NAMES }, async ({ event, requestId }) => {
    const admin = adminPrincipal(event);
    const request = parseParameters(collectParameters(event));
    const result = await resetUserPassword(deps, admin, {
      directoryId: request.DirectoryId,
      userId: request.UserId,
      newPassword: newPasswordChoice(request),
      requireResetAtNextLogin: request.RequirePasswordResetForNextLogin ?? false,
      requestId,
    });
    const body: ResetUserPasswordResponse = result.generated
      ? { NewPasswordSecretId: result.secretId, NewPasswordSecretExpiresAt: result.secretExpiresAt }
      : {};
    return { body };
  });
}

/**
 * The parameters, from exactly one place. A request that spreads them over the query and
 * the body is refused rather than merged: which copy wins would be a guess, and a password
 * in a query string ends up in access logs along the way.
 */
function collectParameters(event: HttpEvent): Record<string, unknown> {
  const query = queryParameters(event);
  const body = bodyParameters(event);
  const bodyHasParameters = body !== undefined && Object.keys(body).length > 0;
  if (bodyHasParameters && Object.keys(query).length > 0) {
    throw new InvalidInputError(
      'Send the parameters either in the query string or in the request body, not in both.',
      { reason: 'ParameterLocation' },
    );
  }
  return bodyHasParameters ? body : query;
}

function bodyParameters(event: HttpEvent): Record<string, unknown> | undefined {
  if (bodyText(event) === undefined) return undefined;
  const type = contentType(event);
  if (type === 'application/x-www-form-urlencoded') return formBody(event);
  if (type !== 'application/json') {
    throw new InvalidInputError(
      'A request body must be sent as application/x-www-form-urlencoded or application/json.',
      { reason: 'ContentType' },
    );
  }
  const json = jsonBody(event);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError('The request body must be a JSON object.', { reason: 'MalformedJson' });
  }
  return json as Record<string, unknown>;
}

/**
 * The strict schema, with Alibaba's codes: `MissingParameter.UserId` for an absent required
 * parameter, `InvalidParameter.<Name>` for a bad one, plain `InvalidParameter` otherwise.
 */
function parseParameters(raw: Record<string, unknown>): ResetUserPasswordRequest {
  for (const name of REQUIRED_PARAMETERS) {
    if (raw[name] === undefined) throw missingParameter(name, `Parameter ${name} is required.`);
  }
  try {
    return parseInput(resetUserPasswordRequest, raw);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const known = PARAMETER_NAMES.find((name) => name === error.field);
    throw new InvalidInputError(error.message, { reason: known, field: error.field, cause: error });
  }
}

/** `GenerateRandomPassword` (default False) and `Password`: exactly one way to a new password. */
function newPasswordChoice(request: ResetUserPasswordRequest): NewPasswordChoice {
  const generate = request.GenerateRandomPassword ?? false;
  if (generate && request.Password !== undefined) {
    throw new InvalidInputError('Parameter Password must not be given when GenerateRandomPassword is True.', {
      reason: 'Password',
      field: 'Password',
    });
  }
  if (generate) return { generate: true };
  if (request.Password === undefined) {
    throw missingParameter(
      'Password',
      'Parameter Password is required when GenerateRandomPassword is False.',
    );
  }
  return { generate: false, password: request.Password };
}

function missingParameter(name: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { reason: 'MissingParameter', field: name });
}

export const handler = createHandler(createRuntime('reset-user-password'));

/**
 * Lambda entry point of `POST /cloudsso/2021-05-15/ResetUserPassword` (Alibaba CloudSSO,
 * seed 003), and of `GET|POST /` with `Action=ResetUserPassword&Version=2021-05-15`, the RPC
 * style Alibaba's generated clients call. Parameters from the query string, a form body or a
 * JSON body (one of them; Alibaba's common parameters may sit in the query besides) →
 * operation (the seed in rekey's verbs) → `{RequestId, NewPasswordSecretId, NewPasswordSecretExpiresAt}` or `{RequestId}`.
 */
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { InvalidInputError, NotFoundError } from '#core/errors.ts';
import { alibaba } from '#dialects/alibaba.ts';
import { adminPrincipal } from '#http/admin.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import {
  bodyText,
  contentType,
  formBody,
  type HttpEvent,
  header,
  jsonBody,
  parseInput,
  queryParameters,
} from '#http/request.ts';
import type { ResetUserPasswordResponse } from './openapi.ts';
import { type NewPasswordChoice, resetUserPassword } from './operation.ts';
import {
  ACTION,
  COMMON_PARAMETER_NAMES,
  commonParameters,
  PARAMETER_NAMES,
  REQUIRED_PARAMETERS,
  type ResetUserPasswordRequest,
  resetUserPasswordRequest,
  VERSION,
} from './schema.ts';

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  const query = [...PARAMETER_NAMES, ...COMMON_PARAMETER_NAMES];
  const observe = observing(runtime, {
    operation: 'reset-user-password',
    activity: 'reset',
    actor: 'admin',
    success: 'PasswordSet',
  });
  return httpHandler({ dialect: alibaba, logger, query, observe }, async ({ event, requestId, note }) => {
    const { parameters, common } = collectParameters(event);
    // Which operation a request names is routing, as at Alibaba's gateway: before the token.
    checkAction(event, common);
    const admin = adminPrincipal(event);
    const request = parseParameters(parameters);
    // The token's realm; the user once the directory has found them (a refusal's subject, or
    // the user reset below): never an id as typed, which may be a password in the wrong field.
    note.target = { realmId: admin.realmId };
    const result = await resetUserPassword(deps, admin, {
      directoryId: request.DirectoryId,
      userId: request.UserId,
      newPassword: newPasswordChoice(request),
      requireResetAtNextLogin: request.RequirePasswordResetForNextLogin ?? false,
      requestId,
    });
    note.success = result.generated ? 'PasswordIssued' : 'PasswordSet';
    note.target.userId = request.UserId;
    const body: ResetUserPasswordResponse = result.generated
      ? { NewPasswordSecretId: result.secretId, NewPasswordSecretExpiresAt: result.secretExpiresAt }
      : {};
    return { body };
  });
}

/**
 * The operation's parameters, from exactly one place. A request that spreads them over the
 * query and the body is refused rather than merged: which copy wins would be a guess, and a
 * password in a query string ends up in access logs along the way. Alibaba's common
 * parameters (Action, Version, Timestamp, ...) are set apart first, from either place (the
 * SDKs put them in the query and the operation's parameters in a form body); one given in
 * both is refused.
 */
function collectParameters(event: HttpEvent): {
  parameters: Record<string, unknown>;
  common: { Action?: string | undefined; Version?: string | undefined };
} {
  const query = splitCommon(queryParameters(event));
  const body = splitCommon(bodyParameters(event) ?? {});
  const bodyHasParameters = Object.keys(body.operation).length > 0;
  if (bodyHasParameters && Object.keys(query.operation).length > 0) {
    throw new InvalidInputError(
      'Send the parameters either in the query string or in the request body, not in both.',
      { reason: 'ParameterLocation' },
    );
  }
  if (Object.keys(query.common).some((name) => Object.hasOwn(body.common, name))) {
    throw new InvalidInputError('A common parameter is given in both the query string and the body.', {
      reason: 'ParameterLocation',
    });
  }
  const common = parseInput(commonParameters, { ...query.common, ...body.common });
  return { parameters: bodyHasParameters ? body.operation : query.operation, common };
}

const COMMON: ReadonlySet<string> = new Set(COMMON_PARAMETER_NAMES);

function splitCommon(raw: Record<string, unknown>): {
  operation: Record<string, unknown>;
  common: Record<string, unknown>;
} {
  const operation: Record<string, unknown> = Object.create(null);
  const common: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(raw)) (COMMON.has(name) ? common : operation)[name] = value;
  return { operation, common };
}

/**
 * The operation a request names, in the common parameters (signature v2) or in the
 * `x-acs-action` and `x-acs-version` headers (v3): every name given must be this one, or the
 * request is answered as Alibaba answers an API it does not have (404 InvalidAction.NotFound,
 * without repeating what was sent). At `/` both must be given; on rekey's own path, which
 * names the operation already, neither has to be.
 */
function checkAction(
  event: HttpEvent,
  common: { Action?: string | undefined; Version?: string | undefined },
) {
  const actions = [common.Action, header(event, 'x-acs-action')].filter((v) => v !== undefined);
  const versions = [common.Version, header(event, 'x-acs-version')].filter((v) => v !== undefined);
  if (actions.some((action) => action !== ACTION) || versions.some((version) => version !== VERSION)) {
    throw new NotFoundError('Route', 'Specified api is not found, please check your url and method.');
  }
  if (!event.routeKey.endsWith(' /')) return;
  for (const [name, given] of [
    ['Action', actions],
    ['Version', versions],
  ] as const) {
    if (given.length === 0) {
      throw missingParameter(
        name,
        `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
      );
    }
  }
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

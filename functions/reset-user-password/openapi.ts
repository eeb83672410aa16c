/**
 * The OpenAPI contract of Alibaba CloudSSO's ResetUserPassword (seed 003), from the schemas its
 * handler validates with: rekey's own path `POST /cloudsso/2021-05-15/ResetUserPassword` and
 * the RPC style Alibaba's generated clients call, `GET|POST /` with
 * `Action=ResetUserPassword&Version=2021-05-15` (the route table's `alsoServes`). Parameters
 * come in the query, a form body or a JSON body (one of them); Alibaba's common parameters may
 * sit in either. A new path or method on this row needs an entry here: test/unit/openapi.test.ts
 * fails until it has one.
 */
import * as z from 'zod/mini';
import { alibaba } from '#dialects/alibaba.ts';
import {
  type JsonSchema,
  jsonSchema,
  type OpenApiOperation,
  type OperationContract,
  operation,
  parametersFrom,
} from '#http/openapi.ts';
import {
  ACTION,
  COMMON_PARAMETER_NAMES,
  commonParameters,
  PARAMETER_NAMES,
  resetUserPasswordRequest,
  VERSION,
} from './schema.ts';

/**
 * The success body (before the dialect adds `RequestId`): `NewPassword` is replaced by the
 * id of the secret that holds it and the time that secret is deleted; a given password
 * gets an empty body. Here, not in schema.ts: the handler builds no schema it does not
 * validate with (docs/decisions.md, "Cold start, fifth pass"); it imports only the type,
 * which the bundle drops.
 */
export const resetUserPasswordResponse = z.union([
  z.strictObject({ NewPasswordSecretId: z.string(), NewPasswordSecretExpiresAt: z.iso.datetime() }),
  z.strictObject({}),
]);

export type ResetUserPasswordResponse = z.infer<typeof resetUserPasswordResponse>;

const request = jsonSchema(resetUserPasswordRequest);
const common = jsonSchema(commonParameters);

/** The operation's parameters and the common ones, in one body (form or JSON). */
const bodySchema: JsonSchema = {
  ...request,
  properties: {
    ...(request.properties as Record<string, JsonSchema>),
    ...(common.properties as Record<string, JsonSchema>),
  },
};

/** What the dialect answers: the body with `RequestId` (alibaba.successBody). */
const success = jsonSchema(
  z.union(
    resetUserPasswordResponse._zod.def.options.map((option) => z.extend(option, { RequestId: z.string() })),
  ),
  'output',
);

const PARAMETER_NOTES: Record<string, string> = {
  DirectoryId: 'Required (here, in a form or in a JSON body).',
  UserId: 'Required (here, in a form or in a JSON body).',
  Password:
    'The new password, when GenerateRandomPassword is False. Prefer a body: query strings reach access logs.',
  GenerateRandomPassword: 'True: rekey generates the password (then Password must not be given).',
  RequirePasswordResetForNextLogin: 'True: the user must change the password at next sign-in.',
};

function resetUserPassword(operationId: string, rpc: boolean, method: 'GET' | 'POST'): OpenApiOperation {
  return operation(alibaba, {
    operationId,
    summary: rpc
      ? `ResetUserPassword in Alibaba's RPC style (${method} / with Action and Version)`
      : 'Reset a CloudSSO user’s password (Alibaba CloudSSO)',
    description:
      "Alibaba CloudSSO's ResetUserPassword. With GenerateRandomPassword=True the password is generated, kept in " +
      'Secrets Manager and never returned: the body names the secret and its expiry (in place of `NewPassword`). ' +
      'A given Password gets a body with `RequestId` only. Parameters come in the query, an ' +
      'application/x-www-form-urlencoded body or a JSON body: one of them, never spread over two. Alibaba’s common ' +
      `parameters (${COMMON_PARAMETER_NAMES.join(', ')}) are accepted in the query or the body and ignored but for ` +
      'Action and Version; the bearer token authenticates. ' +
      (rpc
        ? `At / both Action=${ACTION} and Version=${VERSION} are required (parameters or the x-acs-action and ` +
          'x-acs-version headers); any other is 404 InvalidAction.NotFound, as Alibaba answers.'
        : 'Action and Version, when given, must name this operation (else 404 InvalidAction.NotFound).'),
    auth: 'admin',
    scheme: 'acsBearerToken',
    parameters: [
      ...parametersFrom(request, 'query', PARAMETER_NAMES, (name) => PARAMETER_NOTES[name], {
        required: false,
      }),
      ...parametersFrom(common, 'query', COMMON_PARAMETER_NAMES, (name) =>
        name === 'Action'
          ? `Must be ${ACTION}${rpc ? ' (required here, or x-acs-action)' : ''}.`
          : name === 'Version'
            ? `Must be ${VERSION}${rpc ? ' (required here, or x-acs-version)' : ''}.`
            : 'Accepted and ignored (signature v2 common parameter).',
      ),
      ...['x-acs-action', 'x-acs-version'].map((name) => ({
        name,
        in: 'header',
        required: false,
        description: `Signature v3's spelling of ${name === 'x-acs-action' ? `Action: ${ACTION}` : `Version: ${VERSION}`}.`,
        schema: { type: 'string' },
      })),
    ],
    ...(method === 'POST'
      ? {
          requestBody: {
            required: false,
            description:
              'The parameters as a form (what the SDKs send) or a JSON object, instead of the query.',
            content: {
              'application/x-www-form-urlencoded': { schema: bodySchema },
              'application/json': { schema: bodySchema },
            },
          },
        }
      : {}),
    success: {
      description:
        'Reset. `RequestId` always; with a generated password, where it is kept and until when (never `NewPassword`).',
      body: withAlibabaExtensions(success),
    },
    errors: [400, 401, 403, 404, 409, 429, 500, 503],
    extensions: {
      NewPasswordSecretId: 'Response field in place of the seed’s `NewPassword`: the secret holding it.',
      NewPasswordSecretExpiresAt: 'Response field: when that secret is deleted.',
    },
  });
}

/** Marks the generated-password branch's fields as rekey's extensions. */
function withAlibabaExtensions(schema: JsonSchema): JsonSchema {
  const notes: Record<string, string> = {
    NewPasswordSecretId:
      "rekey's extension (the seed answers `NewPassword`): the ARN of the Secrets Manager secret holding the password.",
    NewPasswordSecretExpiresAt: "rekey's extension: when the secret is deleted.",
  };
  const anyOf = (schema.anyOf as JsonSchema[]).map((option) => {
    const properties = { ...(option.properties as Record<string, JsonSchema>) };
    for (const [name, description] of Object.entries(notes)) {
      if (properties[name])
        properties[name] = { ...properties[name], description, 'x-rekey-extension': true };
    }
    return { ...option, properties };
  });
  return { ...schema, anyOf };
}

export const contract: OperationContract = {
  'POST /cloudsso/2021-05-15/ResetUserPassword': resetUserPassword('ResetUserPassword', false, 'POST'),
  'GET /': resetUserPassword('ResetUserPasswordRpcGet', true, 'GET'),
  'POST /': resetUserPassword('ResetUserPasswordRpcPost', true, 'POST'),
};

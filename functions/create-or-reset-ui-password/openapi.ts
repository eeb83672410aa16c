/**
 * The OpenAPI contract of `POST /20160918/users/{userId}/uiPassword` (seed 000), from the
 * schemas its handler validates with. A new path or method on this row of the route table
 * needs an entry here: test/unit/openapi.test.ts fails until it has one.
 */
import * as z from 'zod/mini';
import { oci } from '#dialects/oci.ts';
import {
  jsonBody,
  jsonSchema,
  type OperationContract,
  operation,
  parametersFrom,
  propertyOf,
  withExtensions,
} from '#http/openapi.ts';
import { uiPasswordRequest } from './schema.ts';

/**
 * The UIPassword object, without `password`: rekey answers with the secret's id instead. Here,
 * not in schema.ts: the handler validates no response, and a schema in its import graph is
 * built at every cold start (docs/decisions.md, "Cold start, fifth pass").
 */
export const uiPasswordResponse = z.strictObject({
  userId: z.string(),
  timeCreated: z.iso.datetime(),
  lifecycleState: z.literal('ACTIVE'),
  passwordSecretId: z.string(),
  timeExpires: z.iso.datetime(),
});

const request = jsonSchema(uiPasswordRequest);

export const contract: OperationContract = {
  'POST /20160918/users/{userId}/uiPassword': operation(oci, {
    operationId: 'CreateOrResetUIPassword',
    summary: "Create or reset a user's one-time UI password (Oracle IAM)",
    description:
      "OCI Identity's CreateOrResetUIPassword. The new password is generated, kept in Secrets Manager and never " +
      'returned: the UIPassword carries the id of the secret that holds it. The user must change it at next sign-in. ' +
      'A federated user or a realm with SSO sign-in is refused with 409 Conflict (a code the OCI SDKs do not retry); ' +
      'a reset that lost its write to another change of the same user at the same moment is 409 Conflict too (a retry would undo the reset that won).',
    auth: 'admin',
    scheme: 'bearer',
    parameters: [
      ...parametersFrom(request, 'path', ['userId'], () => 'The user (an OCID or any rekey user id).'),
      ...parametersFrom(
        request,
        'header',
        ['opc-retry-token'],
        () =>
          'Makes the call idempotent: a retry with the same token answers the first result (409 IncorrectState, ' +
          'which the OCI SDKs retry, while the first is still running); the token with another user is 409 Conflict.',
      ),
    ],
    requestBody: jsonBody(
      propertyOf(request, 'body').schema,
      'The seed defines no body: none, or an empty JSON object.',
    ),
    success: {
      description: 'The UIPassword, without `password`: where it is kept and until when.',
      body: withExtensions(jsonSchema(uiPasswordResponse, 'output'), {
        passwordSecretId:
          "rekey's extension (not in oci-identity's UIPassword type): the ARN of the Secrets Manager secret holding the password, in place of `password`.",
        timeExpires:
          "rekey's extension: when the secret is deleted and the password stops working if unchanged.",
      }),
      headers: {
        etag: { required: true, description: "The user record's new version.", schema: { type: 'string' } },
      },
    },
    errors: [400, 401, 403, 404, 409, 429, 500],
    extensions: {
      passwordSecretId: 'Response field: the secret holding the password (the seed returns `password`).',
      timeExpires: 'Response field: when that secret is deleted.',
    },
  }),
};

/**
 * The OpenAPI contract of `GET /v2/{project_id}/users/{user_id}/random-password` (Huawei IAM,
 * seed 002), from the schemas its handler validates with. Every other method on the path
 * reaches the function too (`answersOtherMethods`) and is refused with 405 in Huawei's body.
 * A new path or method on this row needs an entry here: test/unit/openapi.test.ts fails until it has one.
 */
import * as z from 'zod/mini';
import { huawei } from '#dialects/huawei.ts';
import {
  HTTP_METHODS,
  jsonBody,
  jsonSchema,
  type OperationContract,
  operation,
  otherMethod,
  parametersFrom,
  propertyOf,
  withExtensions,
} from '#http/openapi.ts';
import { randomPasswordQuery, randomPasswordRequest } from './schema.ts';

/**
 * The seed's `{"password": ...}`, replaced by where the password is kept and until when. Here,
 * not in schema.ts: the handler builds no schema it does not validate with (docs/decisions.md).
 */
export const randomPasswordResponse = z.strictObject({
  password_secret_id: z.string(),
  expires_at: z.iso.datetime(),
});

const IAM = huawei('IAM');
const PATH = '/v2/{project_id}/users/{user_id}/random-password';
const request = jsonSchema(randomPasswordRequest);

export const contract: OperationContract = {
  [`GET ${PATH}`]: operation(IAM, {
    operationId: 'ResetRandomPassword',
    summary: "Reset a user's password to a random one (Huawei IAM)",
    description:
      "Huawei IAM's random-password reset. The password is generated, kept in Secrets Manager and never returned: " +
      'the body names the secret and its expiry. `notification_type` tells the user by e-mail, SMS or both.',
    auth: 'admin',
    scheme: 'xAuthToken',
    parameters: [
      ...parametersFrom(request, 'path', ['project_id', 'user_id']),
      ...parametersFrom(
        jsonSchema(randomPasswordQuery),
        'query',
        ['notification_type'],
        () => 'Tell the user where the new password is: `email`, `phone` or `email,phone`.',
      ),
    ],
    requestBody: jsonBody(
      propertyOf(request, 'body').schema,
      'The seed defines no body: none, or an empty JSON object.',
    ),
    success: {
      description: 'Where the password is kept and until when; the seed’s `password` is never sent.',
      body: withExtensions(jsonSchema(randomPasswordResponse, 'output'), {
        password_secret_id:
          "rekey's extension (the seed answers `password`): the ARN of the Secrets Manager secret holding the password.",
        expires_at: "rekey's extension: when the secret is deleted.",
      }),
    },
    errors: [400, 401, 403, 404, 409, 429, 500, 503],
    extensions: {
      password_secret_id: 'Response field in place of the seed’s `password`.',
      expires_at: 'Response field: when that secret is deleted.',
    },
  }),
  ...Object.fromEntries(
    HTTP_METHODS.filter((method) => method !== 'GET').map((method) => [
      `${method} ${PATH}`,
      otherMethod(IAM, `ResetRandomPassword${method[0]}${method.slice(1).toLowerCase()}Refused`, 'GET'),
    ]),
  ),
};

/**
 * The OpenAPI contract of `PUT /20160918/changepassword` (Oracle IAM, seed 001), from the
 * schema its handler validates with: the same fields as query parameters (the seed's) or as a
 * JSON body, never both. A new path or method on this row needs an entry here:
 * test/unit/openapi.test.ts fails until it has one.
 */
import { oci } from '#dialects/oci.ts';
import { jsonBody, jsonSchema, type OperationContract, operation, parametersFrom } from '#http/openapi.ts';
import { changePasswordRequest } from './schema.ts';

const request = jsonSchema(changePasswordRequest);
const FIELDS = Object.keys(changePasswordRequest.shape);

export const contract: OperationContract = {
  'PUT /20160918/changepassword': operation(oci, {
    operationId: 'ChangePassword',
    summary: 'Change your own password with the current one (Oracle IAM)',
    description:
      'Public: the caller proves the current password, no token. The parameters come as query parameters (the ' +
      "seed's; query strings reach access logs) or as a JSON body (preferred), never both. Usernames must be NFKC " +
      "text; passwords may not hold control, format or unassigned characters, and the space only where the realm's " +
      'policy allows it (the NIST SP 800-63B-4 preset does). Repeated failures lock the ' +
      'user out for a while (answered like a wrong password).',
    auth: 'public',
    parameters: parametersFrom(
      request,
      'query',
      FIELDS,
      (name) =>
        name === 'tenancy' ? 'The tenancy (an OCID or its name).' : 'Required unless the JSON body is sent.',
      { required: false },
    ),
    requestBody: jsonBody(request, 'The same fields as a JSON object (instead of the query string).'),
    success: { description: 'Changed; no body.' },
    errors: [400, 401, 409, 412, 429, 500],
  }),
};

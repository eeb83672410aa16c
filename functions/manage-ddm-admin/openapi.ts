/**
 * The OpenAPI contract of `PUT|POST /v3/{project_id}/instances/{instance_id}/admin-user`
 * (Huawei DDM, seed 004), from the schema its handler validates with. A new path or method on
 * this row needs an entry here: test/unit/openapi.test.ts fails until it has one.
 */
import { huawei } from '#dialects/huawei.ts';
import {
  jsonBody,
  jsonSchema,
  type OpenApiOperation,
  type OperationContract,
  operation,
  parametersFrom,
  propertyOf,
} from '#http/openapi.ts';
import { manageDdmAdminRequest } from './schema.ts';

const DDM = huawei('DDM');
const PATH = '/v3/{project_id}/instances/{instance_id}/admin-user';
const request = jsonSchema(manageDdmAdminRequest);

function manage(method: 'PUT' | 'POST'): OpenApiOperation {
  return operation(DDM, {
    operationId: `ManageDdmAdmin${method === 'PUT' ? '' : 'Post'}`,
    summary: `Create a DDM instance's administrator or set its password (Huawei DDM, ${method})`,
    description:
      "Huawei DDM's admin-user operation (the seed's URI says PUT, its example POST: both are served). The password " +
      'is kept in the one Secrets Manager secret named `rekey/ddm/{project_id}/{instance_id}/admin/…` (each change a ' +
      'new version; find it with list-secrets by that name prefix), never hashed and never returned. The password ' +
      'must satisfy the policy (8–32 characters, at least three of upper case, lower case, digits and `~!@#%^*-_=+?`).',
    auth: 'admin',
    scheme: 'xAuthToken',
    parameters: parametersFrom(request, 'path', ['project_id', 'instance_id']),
    requestBody: jsonBody(
      propertyOf(request, 'body').schema,
      'The administrator and its new password.',
      true,
    ),
    success: { description: 'Done; the seed’s response has no body.' },
    errors: [400, 401, 403, 404, 409, 429, 500, 503],
  });
}

export const contract: OperationContract = {
  [`PUT ${PATH}`]: manage('PUT'),
  [`POST ${PATH}`]: manage('POST'),
};

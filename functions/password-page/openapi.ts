/**
 * The OpenAPI contract of the end user's page (`GET /password`, its script and style, and
 * `GET /password/rules`), from the schemas its handler validates with. A new path or method
 * on this row needs an entry here: test/unit/openapi.test.ts fails until it has one.
 */
import { oci } from '#dialects/oci.ts';
import {
  jsonSchema,
  type OpenApiOperation,
  type OperationContract,
  operation,
  parametersFrom,
} from '#http/openapi.ts';
import { pageRequest, rulesRequest } from './schema.ts';

const page = jsonSchema(pageRequest);
const rules = jsonSchema(rulesRequest);

function asset(operationId: string, summary: string, mediaType: string, query: boolean): OpenApiOperation {
  return operation(oci, {
    operationId,
    summary,
    description:
      'Public. Every answer carries the page’s security headers (a strict Content-Security-Policy, no framing, no referrer, no caching).',
    auth: 'public',
    ...(query
      ? {
          parameters: parametersFrom(
            page,
            'query',
            Object.keys(pageRequest.shape),
            () => 'Prefills the form (never a password).',
          ),
        }
      : {}),
    success: { description: summary, body: { type: 'string' }, mediaType },
    errors: [400, 500],
  });
}

export const contract: OperationContract = {
  'GET /password': asset('PasswordPage', 'The end user’s page (HTML)', 'text/html', true),
  'GET /password/page.js': asset('PasswordPageScript', 'The page’s script', 'text/javascript', false),
  'GET /password/page.css': asset('PasswordPageStyle', 'The page’s style', 'text/css', false),
  'GET /password/rules': operation(oci, {
    operationId: 'PasswordRules',
    summary: 'The password rules of a realm, for the page',
    description:
      'Public. An unknown tenancy (or none) gets the default realm policy’s rules, byte for byte, so the answer tells nothing about which tenancies exist.',
    auth: 'public',
    parameters: [
      ...parametersFrom(rules, 'query', ['tenancy'], () => 'The tenancy (an OCID or its name).'),
      {
        name: 'X-Rekey-Tenancy',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description:
          'The tenancy, percent-encoded UTF-8: what the page sends for a tenancy the user typed, so it never reaches a URL. Not with the query’s tenancy (400).',
        'x-rekey-extension': true,
      },
    ],
    success: { description: 'The rules.', body: { type: 'object' } },
    errors: [400, 500],
  }),
};

/**
 * Issue 11: the OpenAPI 3.1 document. It is valid OpenAPI 3.1 (checked with
 * @seriousme/openapi-schema-validator, which validates against the OpenAPI Initiative's
 * published 3.1 schema), it has an operation for every route key the route table serves and
 * nothing else, a route without one cannot build it, docs/openapi.json is the generated
 * document byte for byte, and what AWS serves (functions/openapi-document) is that file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { alibaba } from '#dialects/alibaba.ts';
import { huawei } from '#dialects/huawei.ts';
import { oci } from '#dialects/oci.ts';
import { changePasswordRequest } from '#functions/change-password/schema.ts';
import { uiPasswordResponse } from '#functions/create-or-reset-ui-password/openapi.ts';
import {
  CONTRACTS,
  OPENAPI_PATH,
  openApiDocument,
  openApiDocumentText,
  servedRouteKeys,
} from '#functions/openapi.ts';
import { handler as documentHandler } from '#functions/openapi-document/handler.ts';
import { ROUTES, type RouteDefinition } from '#functions/routes.ts';
import { jsonSchema } from '#http/openapi.ts';

type Json = Record<string, unknown>;
const FILE = join(import.meta.dirname, '..', '..', 'docs', 'openapi.json');
const document = openApiDocument();
const paths = document.paths as Record<string, Record<string, Json>>;
const operationAt = (key: string): Json => {
  const [method = '', path = ''] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
  return paths[path]?.[method.toLowerCase()] as Json;
};

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator refuses a broken one (so the check above can fail)', async () => {
    // Swagger 2's `in: body` parameter, which OpenAPI 3 has no more.
    const broken = structuredClone(document) as {
      paths: Record<string, Record<string, { parameters: Json[] }>>;
    };
    const [first] = broken.paths['/20160918/changepassword']?.put?.parameters ?? [];
    if (first) first.in = 'body';
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });

  it('has an operation for every route key the route table serves, alsoServes and other methods included, and no other', () => {
    const served = ROUTES.flatMap((route) => servedRouteKeys(route));
    // Spot checks of what servedRouteKeys derives: the RPC style, and Huawei's 405s.
    expect(served).toEqual(
      expect.arrayContaining(['GET /', 'POST /', 'DELETE /v2/{project_id}/users/{user_id}/random-password']),
    );
    const documented = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...served, `GET ${OPENAPI_PATH}`].sort());
    expect(Object.keys(CONTRACTS).sort()).toEqual(ROUTES.map((route) => route.operation).sort());
  });

  it('cannot be built while a route has no entry, and names what is missing and where to add it', () => {
    const undescribed: RouteDefinition = {
      ...(ROUTES[0] as RouteDefinition),
      operation: 'new-operation',
      methods: ['POST'],
      path: '/new-things/{thingId}',
    };
    expect(() => openApiDocument([...ROUTES, undescribed])).toThrow(
      /no contract entry for POST \/new-things\/\{thingId\} \(new-operation\)\. Add it to functions\/<operation>\/openapi\.ts and to CONTRACTS/,
    );
    // A path added to a row (alsoServes) without its entry, too.
    const widened = ROUTES.map((route) =>
      route.operation === 'change-password'
        ? { ...route, alsoServes: [{ path: '/20160918/changepassword', methods: ['POST' as const] }] }
        : route,
    );
    expect(() => openApiDocument(widened)).toThrow(/POST \/20160918\/changepassword \(change-password\)/);
    // And an entry for a route key the table does not serve.
    const narrowed = ROUTES.map((route) =>
      route.operation === 'manage-ddm-admin' ? { ...route, methods: ['PUT' as const] } : route,
    );
    expect(() => openApiDocument(narrowed)).toThrow(/does not serve: POST \/v3/);
  });

  it('is generated from the schemas the handlers validate with', () => {
    const change = operationAt('PUT /20160918/changepassword');
    const body = (change.requestBody as { content: Record<string, { schema: Json }> }).content[
      'application/json'
    ];
    expect(body?.schema).toEqual(jsonSchema(changePasswordRequest));
    // Both shapes: the seed's query parameters, every field of the same schema.
    const query = (change.parameters as Json[]).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query).toEqual(Object.keys(changePasswordRequest.shape));
    const ui = operationAt('POST /20160918/users/{userId}/uiPassword');
    const success = (ui.responses as Record<string, { content: Record<string, { schema: Json }> }>)['200'];
    const schema = success?.content['application/json']?.schema as Json;
    expect(Object.keys(schema.properties as Json)).toEqual(Object.keys(uiPasswordResponse.shape));
    expect(schema.additionalProperties).toBe(false);
  });

  it("states each dialect's error body and request-id header", () => {
    const cases = [
      ['POST /20160918/users/{userId}/uiPassword', oci, 'opc-request-id'],
      ['GET /v2/{project_id}/users/{user_id}/random-password', huawei('IAM'), 'x-request-id'],
      ['PUT /v3/{project_id}/instances/{instance_id}/admin-user', huawei('DDM'), 'x-request-id'],
      ['POST /', alibaba, 'x-acs-request-id'],
    ] as const;
    for (const [key, dialect, header] of cases) {
      const responses = operationAt(key).responses as Record<string, Json>;
      const notFound = responses['404'] as { headers: Record<string, Json>; content: Record<string, Json> };
      expect(notFound.content['application/json']).toEqual({
        schema: jsonSchema(dialect.contract.errorBody(), 'output'),
      });
      expect(notFound.headers[header]?.required, key).toBe(true);
      // 500 may also be API Gateway's own {message}, without the header.
      const internal = responses['500'] as {
        headers: Record<string, Json>;
        content: Record<string, { schema: Json }>;
      };
      expect(internal.content['application/json']?.schema.anyOf).toHaveLength(2);
      expect(internal.headers[header]?.required, key).toBe(false);
    }
    // Only Huawei's IAM route answers 405 (its other methods); the OCI routes do not.
    expect(
      Object.keys(operationAt('DELETE /v2/{project_id}/users/{user_id}/random-password').responses as Json),
    ).toContain('405');
    expect(
      Object.keys(operationAt('POST /20160918/users/{userId}/uiPassword').responses as Json),
    ).not.toContain('405');
  });

  it('has the three token headers on every admin route, the vendor’s own first, and none on change-password', () => {
    expect(Object.keys((document.components as { securitySchemes: Json }).securitySchemes).sort()).toEqual([
      'acsBearerToken',
      'bearer',
      'xAuthToken',
    ]);
    const firstScheme = (key: string) => Object.keys((operationAt(key).security as Json[])[0] ?? {})[0];
    expect(firstScheme('POST /20160918/users/{userId}/uiPassword')).toBe('bearer');
    expect(firstScheme('GET /v2/{project_id}/users/{user_id}/random-password')).toBe('xAuthToken');
    expect(firstScheme('POST /')).toBe('acsBearerToken');
    for (const route of ROUTES.filter((r) => r.auth === 'admin')) {
      for (const key of servedRouteKeys(route).filter((k) =>
        route.methods.some((m) => k.startsWith(`${m} `)),
      )) {
        expect((operationAt(key).security as Json[]).length, key).toBe(3);
      }
    }
    expect(operationAt('PUT /20160918/changepassword').security).toEqual([]);
  });

  it("marks rekey's extensions of the vendors' responses", () => {
    const ui = operationAt('POST /20160918/users/{userId}/uiPassword');
    const schema = (ui.responses as Record<string, { content: Record<string, { schema: Json }> }>)['200']
      ?.content['application/json']?.schema as { properties: Record<string, Json> };
    expect(schema.properties.passwordSecretId?.['x-rekey-extension']).toBe(true);
    expect(schema.properties.timeExpires?.['x-rekey-extension']).toBe(true);
    expect(schema.properties.userId?.['x-rekey-extension']).toBeUndefined();
    expect(Object.keys(ui['x-rekey-extensions'] as Json)).toEqual(['passwordSecretId', 'timeExpires']);
  });

  it('is committed as docs/openapi.json, exactly as `npm run openapi` writes it', () => {
    expect(readFileSync(FILE, 'utf8'), 'docs/openapi.json is stale: run npm run openapi').toBe(
      openApiDocumentText(),
    );
  });

  it('is what the AWS function answers at GET /openapi.json', async () => {
    const response = await documentHandler();
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(response.body).toBe(readFileSync(FILE, 'utf8'));
  });
});

/**
 * The building blocks of rekey's OpenAPI 3.1 document (functions/openapi.ts assembles it).
 * Each operation folder states its own operations in an `openapi.ts` next to its `schema.ts`,
 * from the very zod schemas its handler validates with (`z.toJSONSchema`), and this module
 * adds what every route shares: the dialect's error bodies and request-id header, the token
 * headers, and the answers API Gateway gives itself.
 *
 * The document is a contract the tests hold the code to: the integration suite checks every
 * response the local gateway sends against it (test/support/openapi-setup.ts).
 */
import * as z from 'zod/mini';
import type { Dialect } from '#dialects/dialect.ts';
import type { HttpMethod } from '#functions/routes.ts';
import { booleanWord } from './boolean-word.ts';

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI Operation Object. */
export type OpenApiOperation = Record<string, unknown>;

/**
 * What an operation folder's `openapi.ts` exports: one OpenAPI operation per route key
 * (`METHOD /path`) its row of the route table serves, its own path and every `alsoServes`
 * one, and, on a row that `answersOtherMethods`, every other method too.
 */
export type OperationContract = Readonly<Record<`${HttpMethod} /${string}`, OpenApiOperation>>;

/** The security schemes of admin routes: the same token, in any one of three headers. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An admin token (JWT with the `rekey/admin` scope and a `rekey_realm` claim) in `Authorization: Bearer`; ' +
      "OCI's SDKs send it so with a three-line RequestSigner.",
  },
  xAuthToken: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Auth-Token',
    description: "The same admin token in Huawei's header, as Huawei's SDKs send it.",
  },
  acsBearerToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-acs-bearer-token',
    description: "The same admin token in Alibaba's header, as its SDKs send `Config.bearerToken`.",
  },
} as const;

type SchemeName = keyof typeof SECURITY_SCHEMES;

/** Any one of the three headers (two different tokens in two of them carry no identity). */
function adminSecurity(first: SchemeName): Array<Record<string, []>> {
  const names = Object.keys(SECURITY_SCHEMES) as SchemeName[];
  return [first, ...names.filter((name) => name !== first)].map((name) => ({ [name]: [] }));
}

/**
 * A zod schema as JSON Schema 2020-12: what a request may be (`input`, booleans as `True`/
 * `False` words too) or what a response is (`output`). Refinements JSON Schema cannot say
 * (NFKC names, the characters no password may hold) are the code's, and stated in the
 * operation's description.
 */
export function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const unrepresented: string[] = [];
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    // Custom types become {} and are caught below; only booleanWord's is given a schema.
    unrepresentable: 'any',
    override: (context) => {
      const type = context.zodSchema._zod.def.type;
      if (context.zodSchema === booleanWord) {
        for (const key of Object.keys(context.jsonSchema)) delete context.jsonSchema[key];
        Object.assign(context.jsonSchema, {
          anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'False', 'true', 'false'] }],
          description: 'A JSON boolean, or True/False (true/false) in a query, a form or a JSON string.',
        });
      } else if (UNREPRESENTABLE.has(type) && context.zodSchema !== BOOLEAN_WORD_INPUT) {
        unrepresented.push(type);
      }
    },
  }) as JsonSchema;
  if (unrepresented.length > 0) {
    throw new Error(
      `openapi: JSON Schema cannot state a ${unrepresented.join(', ')} schema; give it one here`,
    );
  }
  return rest;
}

const UNREPRESENTABLE: ReadonlySet<string> = new Set([
  'custom',
  'transform',
  'function',
  'symbol',
  'bigint',
  'map',
  'set',
  'date',
  'undefined',
  'void',
  'nan',
]);
const BOOLEAN_WORD_INPUT = booleanWord._zod.def.in;

/** One property of an object schema's JSON Schema, and whether the object requires it. */
export function propertyOf(object: JsonSchema, name: string): { schema: JsonSchema; required: boolean } {
  const properties = object.properties as Record<string, JsonSchema> | undefined;
  const schema = properties?.[name];
  if (!schema) throw new Error(`openapi: the schema has no property ${name}`);
  return { schema, required: ((object.required as string[] | undefined) ?? []).includes(name) };
}

/** Parameters (`in`) from the named properties of an object schema. */
export function parametersFrom(
  object: JsonSchema,
  location: 'path' | 'query' | 'header',
  names: readonly string[],
  describe: (name: string) => string | undefined = () => undefined,
  options: { required?: boolean } = {},
): JsonSchema[] {
  return names.map((name) => {
    const { schema, required } = propertyOf(object, name);
    const description = describe(name);
    return {
      name,
      in: location,
      required: location === 'path' ? true : (options.required ?? required),
      schema,
      ...(description ? { description } : {}),
    };
  });
}

/**
 * Marks fields of an object schema as rekey's extensions of the vendor's contract (fields the
 * vendor's own SDK types do not have): `x-rekey-extension: true` and a description.
 */
export function withExtensions(object: JsonSchema, fields: Record<string, string>): JsonSchema {
  const properties = { ...(object.properties as Record<string, JsonSchema>) };
  for (const [name, description] of Object.entries(fields)) {
    const field = properties[name];
    if (!field) throw new Error(`openapi: the schema has no property ${name}`);
    properties[name] = { ...field, description, 'x-rekey-extension': true };
  }
  return { ...object, properties };
}

/** A JSON request body (optional unless `required`). */
export function jsonBody(schema: JsonSchema, description: string, required = false): JsonSchema {
  return { required, description, content: { 'application/json': { schema } } };
}

/** API Gateway's own error body, for what it answers before (or instead of) a function. */
export const GATEWAY_ERROR: JsonSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
};

/** What each error status means, for every route. */
const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'The request is not valid: the message names the field and the rule, never the value sent.',
  401: 'No valid token (admin routes), or the current password is wrong (change-password).',
  403: 'The token does not grant the scope or this realm.',
  404: 'The user, instance or realm does not exist or is not the caller’s.',
  405: 'The method is not allowed on this path.',
  409: 'The request conflicts with the resource’s state (federated user, reused retry token, same password).',
  412: 'A precondition of the change is not met.',
  429: 'Throttled: by a backing service (in the dialect’s body) or by API Gateway’s stage or route limit ({message}).',
  500: 'An internal error (in the dialect’s body), or API Gateway’s own {message} when the function fails.',
  503: 'A backing service is unavailable (in the dialect’s body), or API Gateway’s own {message} when the function times out.',
};

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 412 | 429 | 500 | 503;

/** Statuses API Gateway may answer itself on any route (throttling, a failed or timed-out function). */
const GATEWAY_STATUSES: readonly ErrorStatus[] = [429, 500, 503];
type GatewayStatus = 429 | 500 | 503;

const GATEWAY_DESCRIPTIONS: Record<GatewayStatus, string> = {
  429: 'API Gateway’s own {message}: the stage’s or the route’s throttle.',
  500: 'API Gateway’s own {message}: the function failed.',
  503: 'API Gateway’s own {message}: the function timed out.',
};

export interface OperationSpec {
  operationId: string;
  summary: string;
  description: string;
  /** Admin routes take the token; `public` ones (change-password) none. */
  auth: 'admin' | 'public';
  /** The scheme the vendor's own SDKs use, listed first. */
  scheme?: SchemeName;
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  /** Left out only where nothing succeeds (a method a row refuses). */
  success?: {
    /** 200, or 202 where the work is only queued (the ticket intake). */
    status?: 200 | 202;
    description: string;
    /** Undefined: no body (an empty one). */
    body?: JsonSchema;
    /** The body's media type (default application/json). */
    mediaType?: string;
    headers?: Record<string, JsonSchema>;
  };
  /** Every error status the function can answer, in the dialect's body (API Gateway's 429, 500 and 503 are added). */
  errors: readonly ErrorStatus[];
  /** rekey's own additions to the vendor's operation (`x-rekey-extensions`). */
  extensions?: Record<string, string>;
}

/** An OpenAPI operation for a route of `dialect`, with the dialect's errors and headers. */
export function operation(dialect: Dialect, spec: OperationSpec): OpenApiOperation {
  const requestIdHeader = (required: boolean) => ({
    [dialect.contract.requestIdHeader]: {
      required,
      description: `${dialect.contract.requestIdDescription}${required ? '' : ' Absent when API Gateway answers itself.'}`,
      schema: { type: 'string', minLength: 1 },
    },
  });
  const errorBody = jsonSchema(dialect.contract.errorBody(), 'output');
  const responses: Record<string, JsonSchema> = {};
  const { success } = spec;
  if (success) {
    responses[String(success.status ?? 200)] = {
      description: success.description,
      headers: { ...requestIdHeader(true), ...success.headers },
      // No `content`: the body is empty (the response check holds it to that).
      ...(success.body
        ? { content: { [success.mediaType ?? 'application/json']: { schema: success.body } } }
        : {}),
    };
  }
  // API Gateway answers 429 (stage or route throttling), 500 (the function failed) and 503
  // (it timed out) on any route itself, in its own {message} body and without the header.
  const statuses = [...new Set([...spec.errors, ...GATEWAY_STATUSES])].sort();
  for (const status of statuses) {
    const gatewayToo = GATEWAY_STATUSES.includes(status);
    const functionToo = spec.errors.includes(status);
    const schema = !gatewayToo
      ? errorBody
      : functionToo
        ? { anyOf: [errorBody, GATEWAY_ERROR] }
        : GATEWAY_ERROR;
    responses[String(status)] = {
      description: functionToo ? ERROR_DESCRIPTIONS[status] : GATEWAY_DESCRIPTIONS[status as GatewayStatus],
      headers: requestIdHeader(!gatewayToo),
      content: { 'application/json': { schema } },
    };
  }
  responses['413'] = { $ref: '#/components/responses/PayloadTooLarge' };
  const clientRequestId = dialect.clientRequestIdHeader
    ? [
        {
          name: dialect.clientRequestIdHeader,
          in: 'header',
          required: false,
          description:
            "The caller's own request id. Kept as the first part of the response's when it has the shape the vendor's SDKs generate (anything else is dropped, never echoed).",
          schema: { type: 'string' },
        },
      ]
    : [];
  const parameters = [...(spec.parameters ?? []), ...clientRequestId];
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: [dialect.name],
    security: spec.auth === 'admin' ? adminSecurity(spec.scheme ?? 'bearer') : [],
    ...(parameters.length ? { parameters } : {}),
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses,
    ...(spec.extensions ? { 'x-rekey-extensions': spec.extensions } : {}),
  };
}

/**
 * The operation of a method a row does not serve but still routes to its function
 * (`answersOtherMethods`): the function answers 405 in its dialect before it reads anything
 * else of the request, its token included.
 */
export function otherMethod(dialect: Dialect, operationId: string, served: string): OpenApiOperation {
  return operation(dialect, {
    operationId,
    summary: `Any method but ${served}: refused with 405`,
    description: `The function receives every method on this path so that the others are refused in the vendor's body, whatever the token; only ${served} is served.`,
    auth: 'public',
    errors: [405, 500],
  });
}

/** Every method of the route table (for rows that answer other methods). */
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

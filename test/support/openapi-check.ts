/**
 * Checks a response the gateway sent against rekey's OpenAPI document: that its status is one
 * the operation documents, that every required header is there and holds what the document
 * says, and that the body is empty where the document gives no content, or JSON of the
 * documented media type that validates against the schema (ajv, JSON Schema 2020-12). A
 * response no route answered must be API Gateway's own `{message}` 404 or 400.
 *
 * Validators are compiled once per process, on first use of each (operation, status): the
 * document is one per process (functions/openapi.ts).
 */

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiDocument } from '#functions/openapi.ts';
import { perProcess } from './password-ledger.ts';

type Json = Record<string, unknown>;

export interface CheckedResponse {
  method: string;
  /** The route's path template; undefined when no route matched. */
  path: string | undefined;
  result: APIGatewayProxyStructuredResultV2;
}

export interface ResponseChecker {
  /** What is wrong with the response, one line each; empty when it keeps the contract. */
  check(response: CheckedResponse): string[];
}

/** A checker over `document` (by default rekey's). */
export function createResponseChecker(document: Json = openApiDocument()): ResponseChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  const validators = new Map<string, ValidateFunction>();
  const validatorOf = (key: string, schema: Json): ValidateFunction => {
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(key, validate);
    }
    return validate;
  };
  const components = (document.components ?? {}) as { responses?: Record<string, Json> };
  const resolve = (response: Json): Json => {
    const ref = response.$ref;
    if (typeof ref !== 'string') return response;
    const name = ref.replace('#/components/responses/', '');
    const target = components.responses?.[name];
    if (!target) throw new Error(`openapi-check: unresolved ${ref}`);
    return target;
  };
  const paths = document.paths as Record<string, Record<string, Json>>;

  return {
    check({ method, path, result }) {
      const status = result.statusCode ?? 200;
      const where = `${method} ${path ?? '(no route)'} → ${status}`;
      let responses: Record<string, Json>;
      if (path === undefined) {
        responses = { '400': resolve({ $ref: '#/components/responses/GatewayError' }) };
        responses['404'] = responses['400'] as Json;
      } else {
        const operation = paths[path]?.[method.toLowerCase()];
        if (!operation) return [`${where}: the document has no operation ${method} ${path}`];
        responses = operation.responses as Record<string, Json>;
      }
      const documented = responses[String(status)];
      if (!documented) return [`${where}: status ${status} is not documented`];
      const response = resolve(documented);
      const problems: string[] = [];
      const headers = lowerCased(result.headers);
      for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
        const value = headers[name.toLowerCase()];
        if (value === undefined) {
          if (header.required === true) problems.push(`${where}: header ${name} is missing`);
          continue;
        }
        const validate = validatorOf(`${path} ${method} ${status} header ${name}`, header.schema as Json);
        if (!validate(value)) problems.push(`${where}: header ${name} ${describe(validate)}`);
      }
      const body = bodyOf(result);
      const content = response.content as Record<string, { schema: Json }> | undefined;
      if (!content) {
        if (body !== '')
          problems.push(`${where}: the document gives no body, the response has ${body.length} bytes`);
        return problems;
      }
      const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const media = content[mediaType];
      if (!media) {
        problems.push(`${where}: content-type ${mediaType || '(none)'} is not documented`);
        return problems;
      }
      // JSON media types are parsed; any other (an HTML page) is validated as the string it is.
      let parsed: unknown = body;
      if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
        try {
          parsed = JSON.parse(body);
        } catch {
          problems.push(`${where}: the body is not JSON`);
          return problems;
        }
      }
      const validate = validatorOf(`${path} ${method} ${status} body ${mediaType}`, media.schema);
      if (!validate(parsed)) problems.push(`${where}: body ${describe(validate)}`);
      return problems;
    },
  };
}

/** The process's checker over rekey's document (compiled validators are shared by every test file it runs). */
export function sharedResponseChecker(): ResponseChecker {
  return perProcess('rekey.test.openapi-checker', () => createResponseChecker());
}

function lowerCased(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = String(value);
  return out;
}

function bodyOf(result: APIGatewayProxyStructuredResultV2): string {
  const body = result.body ?? '';
  return result.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

/** Ajv's errors by place and rule: never a value (a body may hold anything). */
function describe(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((error) => `${error.instancePath || '(root)'} ${error.message ?? error.keyword}`)
    .join('; ');
}

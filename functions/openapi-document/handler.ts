/**
 * Lambda entry point of `GET /openapi.json`: rekey's OpenAPI 3.1 document, built once per
 * container from the same zod schemas the handlers validate with (functions/openapi.ts), so
 * it is the very document docs/openapi.json holds (test/unit/openapi.test.ts). Public, like
 * the contract of any public API; it names no secret, user or realm.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiDocumentText } from '#functions/openapi.ts';

export async function handler(): Promise<APIGatewayProxyStructuredResultV2> {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: openApiDocumentText() };
}

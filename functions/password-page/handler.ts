/**
 * Lambda entry point of the end user's page: `GET /password` (the HTML), its script and
 * style, and `GET /password/rules` (the realm's password rules, as JSON). Public routes, the
 * OCI dialect (the page talks to `PUT /20160918/changepassword`). Every answer, errors
 * included, carries PAGE_HEADERS: a strict Content-Security-Policy, no framing, no referrer,
 * no caching, no sniffing.
 */

import type { Context } from 'aws-lambda';
import { buildRuntime, noHasher, type Runtime } from '#adapters/runtime-base.ts';
import { InvalidInputError } from '#core/errors.ts';
import { oci } from '#dialects/oci.ts';
import { type HttpResult, httpHandler } from '#http/http-handler.ts';
import { type HttpEvent, header, parseInput, queryParameters } from '#http/request.ts';
import { PAGE_CSS, PAGE_HTML } from './page-html.ts';
import { PAGE_SCRIPT } from './page-script.ts';
import { rulesFor } from './rules.ts';
import { pageRequest, rulesRequest, TENANCY_HEADER } from './schema.ts';

/**
 * Scripts, styles, fetches and the form only from the page's own origin; nothing inline,
 * no plugins, no base rewriting, never inside a frame.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every answer of this function. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  // The page takes passwords: once a browser has seen it over HTTPS, never over plain HTTP.
  'strict-transport-security': 'max-age=31536000',
};

/** The static files, by the route's path. */
const ASSETS: Readonly<Record<string, { contentType: string; text: string }>> = {
  '/password': { contentType: 'text/html; charset=utf-8', text: PAGE_HTML },
  '/password/page.js': { contentType: 'text/javascript; charset=utf-8', text: PAGE_SCRIPT },
  '/password/page.css': { contentType: 'text/css; charset=utf-8', text: PAGE_CSS },
};

/**
 * The query each path defines: the page's prefill parameters (which its own script reads; a
 * password is never one of them), the rules' tenancy; the script and style sheet take none.
 */
const QUERY_BY_PATH: ReadonlyMap<string, readonly string[]> = new Map([
  ['/password', Object.keys(pageRequest.shape)],
  ['/password/rules', Object.keys(rulesRequest.shape)],
]);

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  const inner = httpHandler(
    { dialect: oci, logger, query: (event) => QUERY_BY_PATH.get(routePath(event)) ?? [] },
    async ({ event }) => {
      const path = routePath(event);
      if (path === '/password/rules') {
        const { tenancy } = parseInput(rulesRequest, rulesInput(event));
        return { body: await rulesFor(deps.directory, tenancy) };
      }
      const asset = ASSETS[path] ?? ASSETS['/password'];
      if (path === '/password') parseInput(pageRequest, queryParameters(event));
      return { text: asset?.text ?? '', headers: { 'content-type': asset?.contentType ?? 'text/plain' } };
    },
  );
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const result = await inner(event, context);
    return { ...result, headers: { ...result.headers, ...PAGE_HEADERS } };
  };
}

/**
 * The rules route's input: the query, with the tenancy from the page's header when it sent
 * one (percent-encoded: a header carries Latin-1 only). Given twice, or not decodable, is a
 * 400 that repeats neither.
 */
function rulesInput(event: HttpEvent): Record<string, string> {
  const query = queryParameters(event);
  const sent = header(event, TENANCY_HEADER);
  if (sent === undefined) return query;
  if (query.tenancy !== undefined) {
    throw new InvalidInputError('Give the tenancy once: in the query or in the X-Rekey-Tenancy header.', {
      field: 'tenancy',
    });
  }
  try {
    return { ...query, tenancy: decodeURIComponent(sent) };
  } catch {
    throw new InvalidInputError('The X-Rekey-Tenancy header must be percent-encoded UTF-8.', {
      field: 'tenancy',
    });
  }
}

/** The route's path template (`GET /password/rules` → `/password/rules`). */
function routePath(event: HttpEvent): string {
  const key = event.routeKey ?? '';
  return key.slice(key.indexOf(' ') + 1);
}

// The page never hashes: the runtime has no hasher, so the bundle never loads argon2id.
export const handler = createHandler(buildRuntime('password-page', noHasher));

/**
 * The suite-wide contract check (a vitest setup file, loaded before every test file): every
 * response any local gateway of the worker sends — to the tests' own requests, the vendor
 * SDK tests, the CLI tests, the hostile-input properties — is checked against rekey's OpenAPI
 * document (test/support/openapi-check.ts), and a file whose responses broke it fails in its
 * afterAll, listing what was wrong (status, header, body path and rule; never a value).
 *
 * Responses are only kept while the file runs (nothing is checked on the request path, so
 * timing-sensitive tests run as they would without it) and checked in the afterAll, where the
 * document and ajv are first loaded: a file that starts no gateway pays nothing.
 *
 * Gateways in child processes (`npm start` in local-runtime.test.ts and run-file.test.ts) are
 * started with `responseLogEnv()`: they append every response to a file this check reads.
 * test/integration/openapi-contract.test.ts proves it catches a drifted response and that
 * responses reach every documented operation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, expect } from 'vitest';
import { ROUTES } from '#functions/routes.ts';
import { type GatewayExchange, observeGatewayResponses } from '#infra/local/gateway-observers.ts';
import { perProcess } from './password-ledger.ts';

export interface ContractState {
  /** Responses not checked yet. */
  pending: GatewayExchange[];
  violations: string[];
  /** `METHOD /path status` of every response checked in this file. */
  checked: Set<string>;
  /** How many responses were checked in this file. */
  responses: number;
  /** Files child `npm start`s append their responses to (responseLogEnv). */
  responseLogs: string[];
}

/** This file's findings (reset per file; tests that plant a drift take theirs back out). */
export const contractState = perProcess<ContractState>('rekey.test.openapi-state', () => ({
  pending: [],
  violations: [],
  checked: new Set(),
  responses: 0,
  responseLogs: [],
}));
contractState.pending.length = 0;
contractState.violations.length = 0;
contractState.checked.clear();
contractState.responses = 0;
contractState.responseLogs.length = 0;

/**
 * The environment that makes a child `npm start` (infra/local/start.ts) log every response it
 * sends to a file of this test file's, which the check reads like its own gateways' responses.
 */
export function responseLogEnv(): { REKEY_RESPONSE_LOG: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'rekey-responses-')), 'responses.jsonl');
  contractState.responseLogs.push(file);
  return { REKEY_RESPONSE_LOG: file };
}

/** Moves what child servers logged so far into the responses to check. */
function readResponseLogs(): void {
  for (const file of contractState.responseLogs.splice(0)) {
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line) contractState.pending.push({ ...JSON.parse(line), routes: ROUTES });
      }
    }
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

// Gateways over the route table itself (every local API, and tests that swap a handler);
// not those a test starts over a table of its own (token-authorizer.test.ts's `GET /echo`).
const stop = observeGatewayResponses((exchange) => {
  if (exchange.routes === ROUTES) contractState.pending.push(exchange);
});

/** Checks the responses kept so far; violations go to `contractState.violations`. */
export async function settleContractChecks(): Promise<void> {
  readResponseLogs();
  if (contractState.pending.length === 0) return;
  const { sharedResponseChecker } = await import('./openapi-check.ts');
  const checker = sharedResponseChecker();
  for (const exchange of contractState.pending.splice(0)) {
    contractState.responses++;
    contractState.checked.add(
      `${exchange.method} ${exchange.path ?? '(no route)'} ${exchange.result.statusCode}`,
    );
    contractState.violations.push(...checker.check(exchange));
  }
}

afterAll(async () => {
  stop();
  await settleContractChecks();
  const violations = [...new Set(contractState.violations)];
  if (violations.length === 0) return;
  const path = expect.getState().testPath;
  const file = path ? relative(process.cwd(), path) : 'this test file';
  throw new Error(
    `${file}: ${violations.length} response(s) broke the OpenAPI document (docs/openapi.json):\n  ${violations.join('\n  ')}`,
  );
});

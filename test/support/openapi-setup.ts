/**
 * The suite-wide contract check (a vitest setup file, loaded before every test file): every
 * response any local gateway of the worker sends — to the tests' own requests, the vendor
 * SDK tests, the CLI tests, the hostile-input properties — is checked against rekey's OpenAPI
 * document (test/support/openapi-check.ts), and a file whose responses broke it fails in its
 * afterAll, listing what was wrong (status, header, body path and rule; never a value).
 *
 * What it does not see: gateways in child processes (`npm start` in local-runtime.test.ts and
 * run-file.test.ts). test/integration/openapi-contract.test.ts proves it catches a drifted
 * response and that the suite's responses reach every documented operation.
 */
import { relative } from 'node:path';
import { afterAll, expect } from 'vitest';
import { type GatewayExchange, observeGatewayResponses } from '#infra/local/gateway.ts';
import { sharedResponseChecker } from './openapi-check.ts';
import { perProcess } from './password-ledger.ts';

export interface ContractState {
  violations: string[];
  /** `METHOD /path status` of every response checked in this file. */
  checked: Set<string>;
  /** How many responses were checked in this file. */
  responses: number;
}

/** This file's findings (reset per file; tests that plant a drift take theirs back out). */
export const contractState = perProcess<ContractState>('rekey.test.openapi-state', () => ({
  violations: [],
  checked: new Set(),
  responses: 0,
}));
contractState.violations.length = 0;
contractState.checked.clear();
contractState.responses = 0;

const checker = sharedResponseChecker();
const stop = observeGatewayResponses((exchange: GatewayExchange) => {
  contractState.responses++;
  contractState.checked.add(
    `${exchange.method} ${exchange.path ?? '(no route)'} ${exchange.result.statusCode}`,
  );
  contractState.violations.push(...checker.check(exchange));
});

afterAll(() => {
  stop();
  const violations = [...new Set(contractState.violations)];
  if (violations.length === 0) return;
  const path = expect.getState().testPath;
  const file = path ? relative(process.cwd(), path) : 'this test file';
  throw new Error(
    `${file}: ${violations.length} response(s) broke the OpenAPI document (docs/openapi.json):\n  ${violations.join('\n  ')}`,
  );
});

/**
 * The stacks set every variable a function's settings require (functions/contracts.ts), with
 * the values the contracts name: a function the stacks forgot to configure fails this test,
 * not its first cold start in AWS (production settings have no defaults and fail fast).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ENV,
  type EnvName,
  EVENT_BUS_NAME,
  NOTIFYING_ENV,
  RUNTIME_ENV,
  SECRET_PREFIXES,
  TICKET_INTAKE_ENV,
  TICKET_WORKER_ENV,
  TOKEN_AUTHORIZER_ENV,
} from '#functions/contracts.ts';
import { ROUTES } from '#functions/routes.ts';
import { buildRekey, type RekeyStacks } from '#infra/rekey-app.ts';
import { pascal } from '#infra/stacks/api-stack.ts';

type LambdaFunction = { Properties: { Environment?: { Variables?: Record<string, unknown> } } };

/**
 * What each function's settings require, by construct path. The HTTP operations build the
 * shared runtime (RUNTIME_ENV); those that notify by e-mail also need the sender.
 */
function required(stacks: RekeyStacks): Map<string, readonly EnvName[]> {
  const rows = new Map<string, readonly EnvName[]>();
  for (const route of ROUTES) {
    const path = stacks.api.functions.get(route.operation)?.function.node.path ?? route.operation;
    const emails = route.access.notifies?.includes('email') ?? false;
    rows.set(path, route.access.putsEvents ? TICKET_INTAKE_ENV : emails ? NOTIFYING_ENV : RUNTIME_ENV);
  }
  rows.set('RekeyApi/TokenAuthorizer/Function', TOKEN_AUTHORIZER_ENV);
  // Answers GET /openapi.json from its bundle: it reads no setting.
  rows.set(stacks.api.openApiFunction.function.node.path, []);
  rows.set(stacks.operations.worker.function.node.path, TICKET_WORKER_ENV);
  rows.set(stacks.operations.sweeper.function.node.path, RUNTIME_ENV);
  // Puts the functions' audit lines on the bus: the bus name alone.
  rows.set(stacks.operations.auditForwarder.function.node.path, [ENV.eventBusName]);
  return rows;
}

/** Every Lambda function of every stack: its construct path and its environment variables. */
function deployedFunctions(stacks: RekeyStacks): Array<{ path: string; variables: Record<string, unknown> }> {
  return Object.values(stacks).flatMap((stack: Stack) => {
    const resources = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    // The L1 function's parent is the Function construct whose path the table names.
    const pathOf = new Map(
      stack.node
        .findAll()
        .filter((c): c is CfnFunction => c instanceof CfnFunction)
        .map((c) => [stack.getLogicalId(c), c.node.scope?.node.path ?? c.node.path]),
    );
    return Object.entries(resources).map(([id, fn]) => ({
      path: pathOf.get(id) ?? id,
      variables: (fn as LambdaFunction).Properties.Environment?.Variables ?? {},
    }));
  });
}

describe('the environment the stacks give each function', () => {
  let stacks: RekeyStacks;
  let synthesized: ReturnType<typeof deployedFunctions>;

  // Synthesis is the slow part (tens of seconds on a busy 2-core machine): once, in the hook.
  beforeAll(() => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-environment-')),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    stacks = buildRekey(app);
    synthesized = deployedFunctions(stacks);
  });

  it('has every variable its settings require, for every function in the templates', () => {
    const rows = required(stacks);
    const functions = synthesized;
    // A function the table does not know fails: say what its settings require first.
    expect(functions.map((f) => f.path).sort()).toEqual([...rows.keys()].sort());
    for (const fn of functions) {
      const missing = (rows.get(fn.path) ?? []).filter((name) => !(name in fn.variables));
      expect(missing, `${fn.path} lacks`).toEqual([]);
    }
    // Beside the routes: the token authorizer, the OpenAPI document, the ticket worker, the
    // sweeper, the audit forwarder.
    expect(functions.length).toBe(ROUTES.length + 5);
  });

  it('gives the names and prefixes the contracts say, so the stacks and the runtime agree', () => {
    for (const fn of synthesized) {
      const v = fn.variables;
      if (ENV.temporarySecretPrefix in v)
        expect(v[ENV.temporarySecretPrefix], fn.path).toBe(SECRET_PREFIXES.temporary);
      if (ENV.databaseSecretPrefix in v)
        expect(v[ENV.databaseSecretPrefix], fn.path).toBe(SECRET_PREFIXES.database);
      if (ENV.table in v) expect(JSON.stringify(v[ENV.table]), fn.path).toContain('Directory');
      for (const name of Object.keys(v)) {
        // Only rekey's contract names, Powertools' service name and the argon2 loader's path.
        expect(
          [...Object.values(ENV), 'POWERTOOLS_SERVICE_NAME', 'NAPI_RS_NATIVE_LIBRARY_PATH'],
          `${fn.path}: ${name}`,
        ).toContain(name);
      }
    }
    const bus = Template.fromStack(stacks.operations).findResources('AWS::Events::EventBus');
    expect(Object.values(bus).map((b) => (b as { Properties: { Name: string } }).Properties.Name)).toEqual([
      EVENT_BUS_NAME,
    ]);
  });

  it("tells the bus's name only to the functions that put events on it", () => {
    const told = synthesized.filter((fn) => ENV.eventBusName in fn.variables).map((fn) => fn.path);
    expect(told.sort()).toEqual(
      [
        stacks.api.functions.get('ticket-intake')?.function.node.path,
        stacks.operations.worker.function.node.path,
        stacks.operations.auditForwarder.function.node.path,
      ].sort(),
    );
  });

  it('names each operation function after its route (construct ids are a contract)', () => {
    for (const route of ROUTES) {
      expect(stacks.api.functions.get(route.operation)?.node.id).toBe(pascal(route.operation));
    }
  });
});

/**
 * Issue 11: the integration suite checks every response it receives against the OpenAPI
 * document (test/support/openapi-setup.ts, a setup file of every test file). This file is its
 * control:
 *
 * - the check catches drift: responses that break the document (the Okta case — a success
 *   body with a field the schema does not have — a missing request-id header, an error body
 *   in another dialect's shape, an undocumented status, a body where none is documented), fed
 *   to the checker and, end to end, sent by a gateway whose handler drifted;
 * - the check covers every route: requests to every operation of the document (every path
 *   and method the route table serves, and the document's own), each of whose responses the
 *   setup file checked, with no violation.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newInstance } from '#core/factories.ts';
import { OPENAPI_PATH, openApiDocument } from '#functions/openapi.ts';
import { ROUTES } from '#functions/routes.ts';
import { type Gateway, startGateway } from '#infra/local/gateway.ts';
import { type CheckedResponse, createResponseChecker } from '#test/support/openapi-check.ts';
import { contractState, settleContractChecks } from '#test/support/openapi-setup.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

const document = openApiDocument();
const checker = createResponseChecker(document);
const UI = '/20160918/users/{userId}/uiPassword';
const DDM = '/v3/{project_id}/instances/{instance_id}/admin-user';

/** A response as the UI-password function sends it. */
function uiPassword(overrides: Partial<CheckedResponse['result']> = {}, body?: object): CheckedResponse {
  return {
    method: 'POST',
    path: UI,
    result: {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'opc-request-id': 'r-1', etag: '2' },
      body: JSON.stringify(
        body ?? {
          userId: 'u-alice',
          timeCreated: '2026-12-04T17:00:00.000Z',
          lifecycleState: 'ACTIVE',
          passwordSecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:rekey/temp/demo/u-alice/x',
          timeExpires: '2026-12-11T17:00:00.000Z',
        },
      ),
      ...overrides,
    },
  };
}

describe('the response check', () => {
  it('passes a response that keeps the contract', () => {
    expect(checker.check(uiPassword())).toEqual([]);
  });

  it('catches a success body with a field the document does not have (the Okta tempPassword case)', () => {
    const body = JSON.parse(uiPassword().result.body as string);
    const problems = checker.check(uiPassword({}, { ...body, password: 'Xy7#kq9!Lm2$' }));
    expect(problems).toEqual([
      expect.stringMatching(/^POST .*uiPassword → 200: body .*additional properties/),
    ]);
    // The finding names the place and the rule, never the value.
    expect(problems.join()).not.toContain('Xy7#kq9!Lm2$');
  });

  it('catches a missing field, a missing request-id header and a wrong type', () => {
    const { passwordSecretId: _, ...body } = JSON.parse(uiPassword().result.body as string);
    expect(checker.check(uiPassword({}, body))).toEqual([expect.stringMatching(/passwordSecretId/)]);
    expect(checker.check(uiPassword({ headers: { 'content-type': 'application/json', etag: '2' } }))).toEqual(
      [expect.stringMatching(/header opc-request-id is missing/)],
    );
    expect(checker.check(uiPassword({}, { ...body, passwordSecretId: 7 }))).toEqual([
      expect.stringMatching(/passwordSecretId must be string/),
    ]);
  });

  it("catches an error body in another dialect's shape, and an undocumented status", () => {
    const huaweiBody = JSON.stringify({ error_code: 'IAM.0004', error_msg: 'The user does not exist.' });
    expect(checker.check(uiPassword({ statusCode: 404, body: huaweiBody }))).toEqual([
      expect.stringMatching(/→ 404: body/),
    ]);
    expect(checker.check(uiPassword({ statusCode: 418 }))).toEqual([
      expect.stringMatching(/status 418 is not documented/),
    ]);
    // An OCI route does not answer 405: its other methods are API Gateway's 404.
    expect(checker.check(uiPassword({ statusCode: 405 }))).toEqual([
      expect.stringMatching(/status 405 is not documented/),
    ]);
  });

  it('catches a body where the document gives none, and an operation the document lacks', () => {
    const ddm = (method: string, body: string): CheckedResponse => ({
      method,
      path: DDM,
      result: { statusCode: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'r' }, body },
    });
    expect(checker.check(ddm('PUT', ''))).toEqual([]);
    expect(checker.check(ddm('PUT', '{}'))).toEqual([expect.stringMatching(/gives no body/)]);
    expect(checker.check(ddm('DELETE', ''))).toEqual([
      expect.stringMatching(/the document has no operation DELETE/),
    ]);
  });

  describe('end to end, on a gateway whose handler drifted', () => {
    let gateway: Gateway;
    beforeAll(async () => {
      gateway = await startGateway({
        port: 0,
        routes: ROUTES,
        // The UI-password function answers its seed's `password`, as if its schema had drifted.
        handlers: new Map([
          [
            'create-or-reset-ui-password',
            async () => {
              const drifted = uiPassword().result;
              const body = JSON.parse(drifted.body as string);
              return { ...drifted, body: JSON.stringify({ ...body, password: 'Xy7#kq9!Lm2$' }) };
            },
          ],
        ]),
        verifyToken: () => Promise.reject(new Error('no token here')),
      });
    });
    afterAll(() => gateway.close());

    it('records the violation, which fails the file unless taken back', async () => {
      const before = contractState.violations.length;
      const res = await fetch(`${gateway.url}/20160918/users/u-alice/uiPassword`, { method: 'POST' });
      expect(res.status).toBe(200);
      await res.text();
      // The observer runs right after the response is written; the check, when settled.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await settleContractChecks();
      const planted = contractState.violations.splice(before);
      expect(planted).toEqual([
        expect.stringMatching(/^POST \/20160918\/users\/\{userId\}\/uiPassword → 200: body/),
      ]);
    });
  });
});

describe('a test file whose gateway sent a drifted response', () => {
  const ROOT = resolve(import.meta.dirname, '..', '..');
  const PROBE = 'test/support/probes/openapi-drift.probe.ts';

  /** Runs the probe file alone with the project's own config (setup files included). */
  function runProbe(drift: boolean): { status: number | null; output: string } {
    const config = join(mkdtempSync(join(tmpdir(), 'rekey-openapi-probe-')), 'vitest.config.ts');
    writeFileSync(
      config,
      `import base from ${JSON.stringify(join(ROOT, 'vitest.config.ts'))};\n` +
        `export default { ...base, root: ${JSON.stringify(ROOT)}, test: { ...base.test, include: [${JSON.stringify(PROBE)}] } };\n`,
    );
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', config], {
      cwd: ROOT,
      env: { ...process.env, REKEY_PROBE_DRIFT: drift ? '1' : '0', FORCE_COLOR: '0', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  }

  it('fails, naming the response and the rule, though its test passed', () => {
    const { status, output } = runProbe(true);
    expect(status).toBe(1);
    expect(output).toMatch(/Tests\s+1 passed/);
    expect(output).toContain('1 response(s) broke the OpenAPI document');
    expect(output).toMatch(
      /POST \/20160918\/users\/\{userId\}\/uiPassword → 200: body .*additional properties/,
    );
    expect(output).not.toContain('probe-value');
  }, 120_000);

  it('passes when the same gateway keeps the contract (the control)', () => {
    const { status, output } = runProbe(false);
    expect(output).not.toContain('broke the OpenAPI document');
    expect(status).toBe(0);
  }, 120_000);
});

describe('every route, through the local API', () => {
  let t: TestApi;
  let token: string;
  const admin = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startTestApi();
    token = await t.token();
    await t
      .runtime()
      .deps.directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-1' }), undefined);
  });
  afterAll(() => t.close());

  it('answers every operation of the document, each response checked against it with no violation', async () => {
    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const statuses: number[] = [];
    const before = contractState.responses;
    const send = async (
      method: string,
      path: string,
      init: { headers?: Record<string, string>; body?: string } = {},
    ) => {
      const res = await t.request(method, path, init);
      statuses.push(res.status);
      return res;
    };
    // OCI: the UI password (200, 409 for the federated user), change password (a given password, then changed).
    expect((await send('POST', '/20160918/users/u-alice/uiPassword', { headers: admin() })).status).toBe(200);
    expect((await send('POST', '/20160918/users/u-carol/uiPassword', { headers: admin() })).status).toBe(409);
    const current = 'Xy7#kq9!Lm2$Pw';
    const given = await send('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
      headers: { ...admin(), ...form },
      body: `DirectoryId=demo&UserId=u-bob&Password=${encodeURIComponent(current)}`,
    });
    expect(given.status).toBe(200);
    const changed = await send('PUT', '/20160918/changepassword', {
      headers: json,
      body: JSON.stringify({ username: 'bob', currentPassword: current, newPassword: 'Qz8@wr5&Tn4%Hv' }),
    });
    expect(changed.status).toBe(200);
    expect((await send('PUT', '/20160918/changepassword?username=bob')).status).toBe(400);
    // Huawei IAM: GET, and every other method refused with 405.
    const random = '/v2/demo/users/u-alice/random-password';
    expect((await send('GET', random, { headers: { 'x-auth-token': token } })).status).toBe(200);
    expect(
      (await send('GET', '/v2/demo/users/u-nobody/random-password', { headers: { 'x-auth-token': token } }))
        .status,
    ).toBe(404);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect((await send(method, random, { headers: { 'x-auth-token': token } })).status).toBe(405);
    }
    // Huawei DDM: PUT and POST, 200 with no body; 401 without a token.
    const ddm = '/v3/demo/instances/ddm-1/admin-user';
    const ddmBody = JSON.stringify({ name: 'admin_1', password: 'Ddm#Admin2024' });
    expect(
      (await send('PUT', ddm, { headers: { 'x-auth-token': token, ...json }, body: ddmBody })).status,
    ).toBe(200);
    expect(
      (await send('POST', ddm, { headers: { 'x-auth-token': token, ...json }, body: ddmBody })).status,
    ).toBe(200);
    expect((await send('PUT', ddm, { headers: json, body: ddmBody })).status).toBe(401);
    // Alibaba: its own path and the RPC style, success and refusals.
    const rpc = 'Action=ResetUserPassword&Version=2021-05-15';
    const acs = { 'x-acs-bearer-token': token };
    expect(
      (
        await send('GET', `/?${rpc}&DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True`, {
          headers: acs,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send('POST', `/?${rpc}`, {
          headers: { ...acs, ...form },
          body: 'DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True',
        })
      ).status,
    ).toBe(200);
    expect((await send('POST', '/?Action=DeleteUser&Version=2021-05-15', { headers: acs })).status).toBe(404);
    expect(
      (
        await send('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
          headers: { ...acs, ...json },
          body: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-nobody', GenerateRandomPassword: true }),
        })
      ).status,
    ).toBe(404);
    // The end user's page (issue 15): its HTML, script, style and rules; a bad query is a 400.
    for (const path of [
      '/password?username=bob',
      '/password/page.js',
      '/password/page.css',
      '/password/rules',
    ]) {
      expect((await send('GET', path)).status, path).toBe(200);
    }
    expect((await send('GET', '/password?password=x')).status).toBe(400);
    // The ticket intake (issue 12): an unknown connector. Its 202 and 401s are checked against
    // the document in test/integration/ticket-intake.test.ts, like every response of the suite.
    expect(
      (
        await send('POST', '/tickets/no-such-connector', {
          headers: json,
          body: JSON.stringify({ ticketId: '1', operation: 'ResetRandomPassword', user: 'bob' }),
        })
      ).status,
    ).toBe(404);
    // The document itself, and what no route answers.
    const served = await send('GET', OPENAPI_PATH);
    expect(served.status).toBe(200);
    expect(served.json).toEqual(document);
    expect((await send('GET', '/no/such/route')).status).toBe(404);

    // The setup file checked every one of these responses: no violation, and every operation reached.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await settleContractChecks();
    expect(contractState.violations).toEqual([]);
    const reached = new Set([...contractState.checked].map((key) => key.slice(0, key.lastIndexOf(' '))));
    const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.filter((operation) => !reached.has(operation))).toEqual([]);
    expect(reached).toContain('GET (no route)');
    expect(contractState.responses - before).toBe(statuses.length);
  });
});

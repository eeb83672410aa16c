/**
 * The architecture rules of .dependency-cruiser.cjs, run through dependency-cruiser's API:
 * the real tree breaks none, and one planted violation of each rule (in a temporary copy of
 * functions/ and infra/) is reported by that rule, from the planted file, and by no other.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ICruiseOptions, ICruiseResult, IViolation } from 'dependency-cruiser';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/routes.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONFIG = '.dependency-cruiser.cjs';
/** What `npm run lint` cruises. */
const CRUISED = ['functions', 'infra'];

const RULES = [
  'core-is-pure',
  'adapters-import-no-handler',
  'operations-are-independent',
  'production-imports-no-local',
  'non-hashing-functions-load-no-argon2',
  'functions-import-no-dev-dependency',
] as const;

async function cruiseTree(baseDir: string): Promise<ICruiseResult> {
  const options: ICruiseOptions = await extractDepcruiseOptions(join(baseDir, CONFIG));
  const { output } = await cruise(CRUISED, { ...options, validate: true, baseDir });
  if (typeof output === 'string') throw new Error('dependency-cruiser returned text, not a result');
  return output;
}

/**
 * Imports a function's entry file in a fresh Node (as Lambda's init does) and lists the
 * argon2id binding files it loaded: the binding is CommonJS, so they are in require.cache.
 */
async function argon2FilesLoadedBy(entry: string): Promise<string[]> {
  const probe =
    "import(require('node:url').pathToFileURL(process.argv[1]).href).then(() => console.log(JSON.stringify(" +
    "Object.keys(require.cache).filter((file) => file.includes('@node-rs/argon2')))))";
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', '-e', probe, join(ROOT, entry)],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AWS_REGION: 'us-east-1',
        REKEY_JWT_ISSUER: 'https://issuer.example.com',
        REKEY_JWT_AUDIENCE: 'rekey',
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as string[];
}

const violationsOf = (result: ICruiseResult, rule: string): IViolation[] =>
  result.summary.violations.filter((violation) => violation.rule.name === rule);

describe('the architecture rules', () => {
  let real: ICruiseResult;
  let planted: ICruiseResult;
  let copy: string;

  beforeAll(async () => {
    real = await cruiseTree(ROOT);

    // A copy of the tree the rules read, with one violation of each rule planted in it.
    copy = mkdtempSync(join(tmpdir(), 'rekey-architecture-'));
    for (const path of ['functions', 'infra', 'package.json', CONFIG]) {
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const plant = (path: string, text: string) => writeFileSync(join(copy, path), text);
    // core-is-pure: an adapter, the HTTP layer, a dialect, infra and an AWS package.
    plant(
      'functions/core/planted.ts',
      [
        "import '#adapters/logger.ts';",
        "import '#http/http-handler.ts';",
        "import '#dialects/huawei.ts';",
        "import '#infra/constructs/writable-partitions.ts';",
        "import '@aws-sdk/client-dynamodb';",
        '',
      ].join('\n'),
    );
    // adapters-import-no-handler: an adapter reaching into an operation's handler.
    plant('functions/adapters/planted.ts', "import '#functions/change-password/handler.ts';\n");
    // operations-are-independent: the import this rule was written for (and fixed).
    plant(
      'functions/reset-random-password/planted.ts',
      "import '#functions/create-or-reset-ui-password/schema.ts';\n",
    );
    // production-imports-no-local: the stateful stack's old import of the TTL attribute.
    plant('infra/stacks/planted.ts', "import '../local/table.ts';\n");
    // non-hashing-functions-load-no-argon2: ManageDdmAdmin back on the hashing runtime.
    const ddm = join(copy, 'functions/manage-ddm-admin/handler.ts');
    writeFileSync(ddm, `import '#adapters/runtime.ts';\n${readFileSync(ddm, 'utf8')}`);

    // functions-import-no-dev-dependency: SES's SDK client, kept as a devDependency for the
    // differential test, imported at run time (the Logger sat there too, for the bench).
    plant('functions/adapters/planted-dev.ts', "import '@aws-sdk/client-ses';\n");

    planted = await cruiseTree(copy);
  }, 60_000);

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('are all defined as errors in the configuration', async () => {
    const options = await extractDepcruiseOptions(join(ROOT, CONFIG));
    const rules = options.ruleSet?.forbidden ?? [];
    expect(rules.map((rule) => rule.name).sort()).toEqual([...RULES].sort());
    for (const rule of rules) expect(rule.severity, rule.name).toBe('error');
  });

  it('run in `npm run lint` (so in CI) over the same folders as this test', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { lint: string } };
    expect(pkg.scripts.lint).toContain(`depcruise --config ${CONFIG} --output-type err ${CRUISED.join(' ')}`);
  });

  it('see the real dependency graph: path aliases and the binding loader resolve', () => {
    const unresolved = real.modules.flatMap((module) =>
      module.dependencies
        .filter((dependency) => dependency.couldNotResolve)
        .map((dependency) => `${module.source} → ${dependency.module}`),
    );
    expect(unresolved).toEqual([]);
    const targets = (source: string) =>
      real.modules.find((module) => module.source === source)?.dependencies.map((d) => d.resolved) ?? [];
    // `#adapters/*` (package.json "imports") resolves to the file.
    expect(targets('functions/manage-ddm-admin/handler.ts')).toContain('functions/adapters/runtime-base.ts');
    // The binding, loaded through `createRequire`, is an edge like any import.
    expect(targets('functions/adapters/argon2-hasher.ts')).toEqual(
      expect.arrayContaining([expect.stringMatching(/(^|\/)node_modules\/@node-rs\/argon2\/index\.js$/)]),
    );
    expect(targets('functions/adapters/runtime.ts')).toContain('functions/adapters/argon2-hasher.ts');
  });

  it('hold on the real tree', () => {
    expect(real.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(real.summary.error).toBe(0);
  });

  it('name every operation folder: each route, the ticket worker, the sweeper, the authorizer', async () => {
    const options = await extractDepcruiseOptions(join(ROOT, CONFIG));
    const rule = options.ruleSet?.forbidden?.find((r) => r.name === 'operations-are-independent');
    const folders = new RegExp(String(rule?.from.path));
    const operations = [
      ...ROUTES.map((route) => route.operation),
      'ticket-worker',
      'sweeper',
      'token-authorizer',
    ];
    for (const operation of operations)
      expect(folders.test(`functions/${operation}/handler.ts`), operation).toBe(true);
    expect(folders.test('functions/core/model.ts')).toBe(false);
  });

  it('core-is-pure: refuses core importing an adapter, the HTTP layer, a dialect, infra or an AWS package', () => {
    const found = violationsOf(planted, 'core-is-pure');
    expect(found.map((v) => v.from)).toEqual(Array(5).fill('functions/core/planted.ts'));
    expect(found.map((v) => v.to).sort()).toEqual(
      [
        'functions/adapters/logger.ts',
        'functions/dialects/huawei.ts',
        'functions/http/http-handler.ts',
        'infra/constructs/writable-partitions.ts',
        // The copy's node_modules is a link to the real one, which the resolver follows.
        expect.stringMatching(/(^|\/)node_modules\/@aws-sdk\/client-dynamodb\//),
      ].sort(),
    );
  });

  it('adapters-import-no-handler: refuses an adapter importing an operation', () => {
    const found = violationsOf(planted, 'adapters-import-no-handler');
    expect(found.map((v) => `${v.from} → ${v.to}`)).toEqual([
      'functions/adapters/planted.ts → functions/change-password/handler.ts',
    ]);
  });

  it('operations-are-independent: refuses one operation folder importing another', () => {
    const found = violationsOf(planted, 'operations-are-independent');
    expect(found.map((v) => `${v.from} → ${v.to}`)).toEqual([
      'functions/reset-random-password/planted.ts → functions/create-or-reset-ui-password/schema.ts',
    ]);
  });

  it('production-imports-no-local: refuses a stack importing infra/local', () => {
    const found = violationsOf(planted, 'production-imports-no-local');
    expect(found.map((v) => `${v.from} → ${v.to}`)).toEqual([
      'infra/stacks/planted.ts → infra/local/table.ts',
    ]);
  });

  it('non-hashing-functions-load-no-argon2: refuses ManageDdmAdmin reaching the argon2id binding', () => {
    const found = violationsOf(planted, 'non-hashing-functions-load-no-argon2');
    expect(found.map((v) => v.from)).toEqual(['functions/manage-ddm-admin/handler.ts']);
    expect(found[0]?.to).toMatch(/(^|\/)node_modules\/@node-rs\/argon2\/index\.js$/);
    // Reached through the hashing runtime and its adapter, not directly.
    expect(found[0]?.via?.map((step) => step.name)).toEqual(
      expect.arrayContaining(['functions/adapters/runtime.ts', 'functions/adapters/argon2-hasher.ts']),
    );
  });

  it('functions-import-no-dev-dependency: refuses a function importing a devDependency at run time', () => {
    const found = violationsOf(planted, 'functions-import-no-dev-dependency');
    expect(found.map((v) => v.from)).toEqual(['functions/adapters/planted-dev.ts']);
    expect(found[0]?.to).toMatch(/(^|\/)node_modules\/@aws-sdk\/client-ses\//);
  });

  it('match what loads: importing ManageDdmAdmin, the Sweeper, the authorizer or the page loads no argon2id binding', async () => {
    const [ddm, sweeper, authorizer, page, changePassword] = await Promise.all(
      ['manage-ddm-admin', 'sweeper', 'token-authorizer', 'password-page', 'change-password'].map((name) =>
        argon2FilesLoadedBy(`functions/${name}/handler.ts`),
      ),
    );
    expect({ ddm, sweeper, authorizer, page }).toEqual({ ddm: [], sweeper: [], authorizer: [], page: [] });
    // The control: a function that hashes does load it, so the probe can see a load.
    expect(changePassword).toEqual(expect.arrayContaining([expect.stringMatching(/argon2.*\.node$/)]));
  }, 30_000);

  it('report nothing else in the planted tree: each plant breaks its own rule only', () => {
    const counts = Object.fromEntries(RULES.map((rule) => [rule, violationsOf(planted, rule).length]));
    expect(counts).toEqual({
      'core-is-pure': 5,
      'adapters-import-no-handler': 1,
      'operations-are-independent': 1,
      'production-imports-no-local': 1,
      'non-hashing-functions-load-no-argon2': 1,
      'functions-import-no-dev-dependency': 1,
    });
    expect(planted.summary.violations).toHaveLength(10);
  });
});

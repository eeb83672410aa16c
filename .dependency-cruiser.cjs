/**
 * rekey's architecture, checked by dependency-cruiser (`npm run lint`, CI, and
 * test/unit/architecture.test.ts, which plants one violation of each rule and sees it caught).
 *
 * Paths are relative to the repository root. Type-only imports count (`tsPreCompilationDeps`):
 * a layer that may not load a module may not name its types either.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The operation folders: one per route in functions/routes.ts (read from its source, so a new
 * route is covered without touching this file) plus the functions that no route serves.
 */
const ROUTE_OPERATIONS = [
  ...readFileSync(join(__dirname, 'functions', 'routes.ts'), 'utf8').matchAll(
    /\boperation:\s*'([a-z0-9-]+)'/g,
  ),
].map((match) => match[1]);
const OPERATIONS = [
  ...new Set([
    ...ROUTE_OPERATIONS,
    'ticket-worker',
    'sweeper',
    'token-authorizer',
    'openapi-document',
    'audit-forwarder',
  ]),
];
const OPERATION_FOLDER = `^functions/(${OPERATIONS.join('|')})/`;

/** Functions that never hash a password: their bundles must not load the argon2id binding. */
const NON_HASHING_ENTRIES = [
  'manage-ddm-admin',
  'password-page',
  'sweeper',
  'token-authorizer',
  'openapi-document',
  'ticket-intake',
  'audit-forwarder',
].map((name) => `^functions/${name}/handler\\.ts$`);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment:
        'functions/core holds the rules and the ports; it imports no adapter, no handler (the HTTP ' +
        'layer, the route table, an operation folder), no dialect, nothing from infra and no AWS ' +
        'package: adapters implement its ports, never the other way round.',
      severity: 'error',
      from: { path: '^functions/core/' },
      to: {
        path: [
          '^functions/(adapters|http|dialects)/',
          '^functions/routes\\.ts$',
          OPERATION_FOLDER,
          '^infra/',
          '(^|/)node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|@types/aws-lambda|aws-lambda|aws-cdk-lib|aws-cdk|constructs|cdk-nag)/',
        ],
      },
    },
    {
      name: 'adapters-import-no-handler',
      comment:
        'functions/adapters implement ports and wire runtimes; handlers (operation folders, the ' +
        'HTTP layer and the route table) use adapters, not the other way round.',
      severity: 'error',
      from: { path: '^functions/adapters/' },
      to: { path: [OPERATION_FOLDER, '^functions/http/', '^functions/routes\\.ts$'] },
    },
    {
      name: 'operations-are-independent',
      comment:
        'No operation folder (functions/<operation>/) imports another: what two operations share ' +
        'lives in core, http, dialects or adapters.',
      severity: 'error',
      from: { path: OPERATION_FOLDER },
      to: { path: OPERATION_FOLDER, pathNot: '^functions/$1/' },
    },
    {
      name: 'production-imports-no-local',
      comment:
        'infra/local is the embedded backend of `npm start` and the tests; nothing deployed ' +
        '(functions, the stacks, the constructs, the CDK apps) may depend on it.',
      severity: 'error',
      from: { path: ['^functions/', '^infra/stacks/', '^infra/constructs/', '^infra/[^/]+\\.ts$'] },
      to: { path: '^infra/local/' },
    },
    {
      name: 'non-hashing-functions-load-no-argon2',
      comment:
        'ManageDdmAdmin, the Sweeper and the token authorizer never hash: nothing their entry ' +
        'files reach, directly or not, may import the argon2id binding (its native addon costs ' +
        'cold-start time and their assets do not ship it).',
      severity: 'error',
      from: { path: NON_HASHING_ENTRIES },
      to: { path: '(^|/)node_modules/@node-rs/argon2', reachable: true },
    },
    {
      name: 'functions-import-no-dev-dependency',
      comment:
        'What the functions run is installed from "dependencies": a package only in ' +
        '"devDependencies" (the SDK clients kept for differential tests, the bench) is missing ' +
        'from an install without dev packages. Type-only imports are erased and may name one.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The argon2id adapter loads the binding with a `createRequire` function it names
    // `nativeRequire` (see functions/adapters/argon2-hasher.ts): count such calls as imports.
    exoticRequireStrings: ['nativeRequire'],
    tsPreCompilationDeps: true,
    // package.json "imports" (#core/*, #adapters/*, …) resolve like Node and tsc resolve them.
    enhancedResolveOptions: {
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.d.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};

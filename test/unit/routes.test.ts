import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECRET_PREFIXES, WRITABLE_PARTITIONS, WRITE_ACTIONS } from '#functions/contracts.ts';
import { type OperationAccess, ROUTES, type RouteDefinition } from '#functions/routes.ts';

const ROOT = join(import.meta.dirname, '..', '..');

// Compile-time half of "a new operation is one folder plus one row": a row without its access
// row does not type-check (`npm run lint` runs tsc over the tests). If `access` ever became
// optional, this directive would be unused and tsc would fail.
// @ts-expect-error access is required
const rowWithoutAccess: RouteDefinition = {
  operation: 'new-operation',
  methods: ['POST'],
  path: '/new',
  dialect: 'oci',
  auth: 'admin',
  answersOtherMethods: false,
  seed: '999',
};

/** What RekeyFunction.bindTable / bindSecrets would refuse at synth, checked on the plain data. */
function problemsOf(access: OperationAccess | undefined): string[] {
  if (!access) return ['no access row'];
  const problems: string[] = [];
  const writing = access.table.filter((a) => WRITE_ACTIONS.includes(a));
  if (writing.length > 0 && access.writes.length === 0) problems.push('write actions without partitions');
  if (writing.length === 0 && access.writes.length > 0) problems.push('partitions without a write action');
  const known = [
    WRITABLE_PARTITIONS.users,
    WRITABLE_PARTITIONS.trackedSecrets,
    WRITABLE_PARTITIONS.instances,
  ];
  for (const pattern of access.writes) {
    if (!known.includes(pattern) && !pattern.startsWith(WRITABLE_PARTITIONS.idempotency(''))) {
      problems.push(`unknown partition ${pattern}`);
    }
  }
  if (access.secrets && !(access.secrets.prefix in SECRET_PREFIXES)) problems.push('unknown secret prefix');
  if (access.secrets?.actions.length === 0) problems.push('a secret prefix without actions');
  return problems;
}

describe('the route table', () => {
  it('gives every row its access, and each access is one the stack can grant', () => {
    expect(ROUTES.length).toBeGreaterThan(0);
    for (const route of ROUTES) expect(problemsOf(route.access), route.operation).toEqual([]);
  });

  it('refuses a row without access, or with writes it cannot scope (the check is not vacuous)', () => {
    expect(problemsOf((rowWithoutAccess as Partial<RouteDefinition>).access)).toEqual(['no access row']);
    expect(problemsOf({ table: ['PutItem'], writes: [] })).toEqual(['write actions without partitions']);
    expect(problemsOf({ table: ['GetItem'], writes: ['USER#*'] })).toEqual([
      'partitions without a write action',
    ]);
    expect(problemsOf({ table: ['PutItem'], writes: ['*'] })).toEqual(['unknown partition *']);
  });

  it('is plain data: it imports only the contracts and a dialect type, never the CDK or infra', () => {
    const source = readFileSync(join(ROOT, 'functions/routes.ts'), 'utf8');
    const imports = [...source.matchAll(/^import[\s\S]*?from '([^']+)';/gm)].map((m) => m[1]);
    expect(imports.sort()).toEqual(['#dialects/dialect.ts', './contracts.ts']);
    expect(source).toMatch(/^import type \{ DialectName \} from '#dialects\/dialect\.ts';/m);
  });
});

/**
 * cdk.json sets every feature flag aws-cdk-lib recommends for a new app (the `cdk init`
 * template's context: aws-cdk-lib's recommended-feature-flags.json), so `npx cdk synth` has no
 * "feature flags are not configured" notice; where the project chose otherwise, it says so here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDK_CONTEXT } from './cdk-context.ts';

const require = createRequire(import.meta.url);
const RECOMMENDED = JSON.parse(
  readFileSync(
    join(require.resolve('aws-cdk-lib/package.json'), '..', 'recommended-feature-flags.json'),
    'utf8',
  ),
) as Record<string, unknown>;

/** The project's own choices, where they differ from the recommendation. */
const CHOSEN: Record<string, unknown> = {
  // Strong references (exports): the stateful stack (table, key) cannot be deleted while the API
  // stack uses it; weak ones (Fn::GetStackOutput) would let it go and leave the API broken.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

describe('cdk.json', () => {
  it('sets every flag aws-cdk-lib recommends for a new app, to the recommended value or a stated choice', () => {
    expect(Object.keys(RECOMMENDED).length).toBeGreaterThan(80);
    const unset = Object.keys(RECOMMENDED).filter((flag) => !(flag in CDK_CONTEXT));
    expect(unset).toEqual([]);
    const differing = Object.fromEntries(
      Object.entries(RECOMMENDED)
        .filter(([flag, value]) => JSON.stringify(CDK_CONTEXT[flag]) !== JSON.stringify(value))
        .map(([flag]) => [flag, CDK_CONTEXT[flag]]),
    );
    expect(differing).toEqual(CHOSEN);
  });
});

/**
 * The context of cdk.json (the feature flags, the project's choices): the stack tests build their
 * App with it, so that they describe the stack `npx cdk synth` and `cdk deploy` make, not the one
 * CDK's defaults would make.
 */
import { readFileSync } from 'node:fs';

export const CDK_CONTEXT: Readonly<Record<string, unknown>> = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * Both stacks, wired: the stateful stack's table and key are passed to the API stack as
 * objects. Shared by `infra/app.ts` and the stack tests. The stacks are environment-agnostic
 * (region and account resolve at deploy time), so synthesis needs no credentials.
 */
import type { App } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ApiStack, type ApiStackProps } from './stacks/api-stack.ts';
import { OperationsStack } from './stacks/operations-stack.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';

export interface RekeyStacks {
  stateful: StatefulStack;
  api: ApiStack;
  operations: OperationsStack;
}

/** API settings a caller may give in code rather than through context (tests, other apps). */
export type RekeyOptions = Partial<
  Pick<ApiStackProps, 'throttle' | 'publicRouteThrottle' | 'passwordPageUrl'>
>;

/** Adds rekey's stacks to `app`, reading settings from its context. */
export function buildRekey(app: App, options: RekeyOptions = {}): RekeyStacks {
  const setting = (key: string, fallback: string) => String(app.node.tryGetContext(key) ?? fallback);
  const stateful = new StatefulStack(app, 'RekeyStateful', {
    description: 'rekey: directory table and secrets key',
  });
  const jwksUrl = app.node.tryGetContext('jwksUrl') as string | undefined;
  // The end user's page notifications link to (context `passwordPageUrl`); default: the API's own.
  const passwordPageUrl = app.node.tryGetContext('passwordPageUrl') as string | undefined;
  const api = new ApiStack(app, 'RekeyApi', {
    description: 'rekey: HTTP API and one function per operation',
    // CDK declares ITable's optional members without `| undefined`, which exactOptionalPropertyTypes
    // rejects for TableV2; at runtime a TableV2 is an ITable.
    table: stateful.table as ITable,
    secretsKey: stateful.secretsKey,
    jwtIssuer: setting('jwtIssuer', 'https://issuer.example.com'),
    jwtAudience: setting('jwtAudience', 'rekey-api').split(','),
    ...(jwksUrl ? { jwksUrl } : {}),
    emailIdentity: setting('emailIdentity', 'example.com'),
    emailSender: setting('emailSender', 'no-reply@example.com'),
    ...(passwordPageUrl ? { passwordPageUrl } : {}),
    ...options,
  });
  const operations = new OperationsStack(app, 'RekeyOperations', {
    description: 'rekey: ticketing bus, queue and worker; the temporary-secret sweeper',
    table: stateful.table as ITable,
    secretsKey: stateful.secretsKey,
    emailIdentity: setting('emailIdentity', 'example.com'),
    emailSender: setting('emailSender', 'no-reply@example.com'),
    passwordPageUrl: api.passwordPageUrl,
  });
  return { stateful, api, operations };
}

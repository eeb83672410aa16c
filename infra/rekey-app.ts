/**
 * Both stacks, wired: the stateful stack's table and key are passed to the API stack as
 * objects. Shared by `infra/app.ts` and the stack tests. The stacks are environment-agnostic
 * (region and account resolve at deploy time), so synthesis needs no credentials.
 */
import type { App } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ConnectorReplyProps } from './constructs/ticket-replies.ts';
import { ApiStack, type ApiStackProps } from './stacks/api-stack.ts';
import { MonitoringStack } from './stacks/monitoring-stack.ts';
import { OperationsStack } from './stacks/operations-stack.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';

export interface RekeyStacks {
  stateful: StatefulStack;
  api: ApiStack;
  operations: OperationsStack;
  monitoring: MonitoringStack;
}

/** API settings a caller may give in code rather than through context (tests, other apps). */
export type RekeyOptions = Partial<
  Pick<ApiStackProps, 'throttle' | 'publicRouteThrottle' | 'passwordPageUrl'>
> & {
  /** Ticketing connectors' reply side; default: the context's `connectors` (a JSON array), else none. */
  connectors?: readonly ConnectorReplyProps[];
};

/** Adds rekey's stacks to `app`, reading settings from its context. */
export function buildRekey(app: App, options: RekeyOptions = {}): RekeyStacks {
  const setting = (key: string, fallback: string) => String(app.node.tryGetContext(key) ?? fallback);
  const stateful = new StatefulStack(app, 'RekeyStateful', {
    description: 'rekey: directory table and secrets key',
  });
  const jwksUrl = app.node.tryGetContext('jwksUrl') as string | undefined;
  const { connectors = connectorsFromContext(app.node.tryGetContext('connectors')), ...apiOptions } = options;
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
    ...apiOptions,
  });
  const operations = new OperationsStack(app, 'RekeyOperations', {
    description: 'rekey: ticketing bus, queue and worker; the temporary-secret sweeper',
    table: stateful.table as ITable,
    secretsKey: stateful.secretsKey,
    emailIdentity: setting('emailIdentity', 'example.com'),
    emailSender: setting('emailSender', 'no-reply@example.com'),
    connectors,
    passwordPageUrl: api.passwordPageUrl,
    // The API's operation functions write audit lines (issue 14); the forwarder reads them.
    auditedLogGroups: new Map([...api.functions].map(([operation, fn]) => [operation, fn.logGroup])),
    // The ticket intake puts requests and results in rekey's names; nothing else outside may.
    eventPutters: api.eventPutters,
  });
  // The dashboard and alarms (issue 14): every function's duration, the metrics they emit.
  const monitoring = new MonitoringStack(app, 'RekeyMonitoring', {
    description: 'rekey: operations dashboard and alarms',
    functions: new Map([
      ...api.functions,
      ['ticket-worker', operations.worker],
      ['sweeper', operations.sweeper],
      ['audit-forwarder', operations.auditForwarder],
    ]),
    deadLetterQueue: operations.deadLetterQueue,
  });
  return { stateful, api, operations, monitoring };
}

/** The `connectors` context: a JSON array (a string with `-c`, an array in cdk.json), or none. */
function connectorsFromContext(value: unknown): ConnectorReplyProps[] {
  if (value === undefined) return [];
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed)) throw new Error('the connectors context must be a JSON array');
  return parsed as ConnectorReplyProps[];
}

/**
 * A rekey Lambda function with the defaults every function shares — arm64, Node.js 22,
 * bundling, tracing, JSON logs kept 30 days — and grants that bind a resource and its
 * environment variable together, scoped to exactly the actions the function needs.
 */

import { join } from 'node:path';
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ENV,
  type EnvName,
  HTTP_FUNCTION_TIMEOUT_SECONDS,
  SECRET_PREFIX_ENV,
  SECRET_PREFIXES,
  type SecretAction,
  type SecretPrefixKind,
  type TableAction,
  WRITE_ACTIONS,
} from '../../functions/contracts.ts';
import { LAMBDA_ARGON2_BINARY, lambdaBundling, PROJECT_ROOT } from './lambda-bundling.ts';

export interface RekeyFunctionProps {
  /** The handler module, relative to the repository root. */
  entry: string;
  description: string;
  /** Ship the argon2id binding (default true). */
  argon2?: boolean;
  /** Ship the common-password blocklist artifact (default false: only functions that check chosen passwords). */
  blocklist?: boolean;
  /** Default 1024 MB: argon2id is CPU-bound and Lambda's CPU share grows with memory. */
  memorySize?: number;
  /** Default HTTP_FUNCTION_TIMEOUT_SECONDS (functions/contracts.ts), which the local gateway enforces too. */
  timeout?: Duration;
  environment?: Partial<Record<EnvName, string>>;
  /** Caps concurrency (protects a downstream quota). Default: unreserved. */
  reservedConcurrentExecutions?: number;
  /** For asynchronously invoked functions: the dead-letter queue of failed events, and retries. */
  asyncFailures?: { deadLetterQueue: IQueue; retryAttempts: number };
}

export type { SecretAction, TableAction } from '../../functions/contracts.ts';
export { WRITE_ACTIONS } from '../../functions/contracts.ts';

export class RekeyFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RekeyFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of its own instead of AWSLambdaBasicExecutionRole: logs only to this log group.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `rekey ${id}: only what its operation needs`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      role,
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(HTTP_FUNCTION_TIMEOUT_SECONDS),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: lambdaBundling({ argon2: props.argon2 ?? true, blocklist: props.blocklist ?? false }),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(props.asyncFailures
        ? {
            deadLetterQueue: props.asyncFailures.deadLetterQueue,
            retryAttempts: props.asyncFailures.retryAttempts,
          }
        : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: id,
        // Points the argon2 loader straight at the binary: without it, napi-rs probes for musl
        // libc, falling back to process.report.getReport() where /usr/bin/ldd is missing.
        ...((props.argon2 ?? true) ? { NAPI_RS_NATIVE_LIBRARY_PATH: LAMBDA_ARGON2_BINARY } : {}),
        ...props.environment,
      },
    });
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason: 'rekey targets nodejs22.x, the runtime it is built and tested for (esbuild target node22).',
      },
      { id: 'Serverless-LambdaLatestVersion', reason: 'rekey targets nodejs22.x, as AwsSolutions-L1.' },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) have no resource-level permissions; SNS SMS to a phone number (notifying functions) has no resource ARN.',
      },
    );
  }

  /**
   * Sets REKEY_TABLE and allows exactly `actions` on the table (no Scan, no batch, no index).
   * Reads are allowed on the whole table; writes (PutItem, UpdateItem, DeleteItem) only on
   * items whose partition key matches one of `writes` (IAM StringLike patterns such as
   * `USER#*`), through `dynamodb:LeadingKeys`.
   */
  bindTable(table: ITable, actions: readonly TableAction[], writes: readonly string[] = []): this {
    this.function.addEnvironment(ENV.table, table.tableName);
    const reads = actions.filter((a) => !WRITE_ACTIONS.includes(a));
    const writing = actions.filter((a) => WRITE_ACTIONS.includes(a));
    if (writing.length > 0 && writes.length === 0) {
      throw new Error(`${this.node.id}: ${writing.join(', ')} need the partition keys they may write`);
    }
    if (writing.length === 0 && writes.length > 0) {
      throw new Error(`${this.node.id}: partition keys to write, but no write action`);
    }
    if (reads.length > 0) {
      this.function.addToRolePolicy(
        new PolicyStatement({ actions: reads.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
      );
    }
    if (writing.length > 0) {
      this.function.addToRolePolicy(
        new PolicyStatement({
          actions: writing.map((a) => `dynamodb:${a}`),
          resources: [table.tableArn],
          conditions: {
            // Every partition key the request touches must match a pattern; a write request
            // always carries its key, and the Null check refuses one that somehow did not.
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...writes] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      );
    }
    return this;
  }

  /**
   * Sets the sender (REKEY_EMAIL_FROM) and allows `ses:SendEmail` through the SES identity, as
   * that sender only (`ses:FromAddress`: the address, without a display name): a compromised
   * function cannot mail as another address of the verified domain.
   */
  allowEmail(options: { identity: string; sender: string }): this {
    const stack = Stack.of(this);
    this.function.addEnvironment(ENV.emailFrom, options.sender);
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: options.identity }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': addressOf(options.sender) } },
      }),
    );
    return this;
  }

  /**
   * Allows SMS straight to phone numbers and nothing else SNS publishes to. An SMS to a
   * phone number has no resource ARN (SNS authorizes it on "*") and Publish has no condition
   * key naming the destination (sns:Protocol and sns:Endpoint are Subscribe's), so the grant
   * is "*" with an explicit deny of every ARN Publish can target: topics and platform
   * endpoints (`arn:<partition>:sns:<region>:<account>:…`).
   */
  allowSms(): this {
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));
    this.function.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['sns:Publish'],
        resources: [`arn:${Aws.PARTITION}:sns:*:*:*`],
      }),
    );
    return this;
  }

  /**
   * Sets the variable of the `prefix` kind's name prefix (SECRET_PREFIX_ENV) and allows
   * `actions` on secrets under that prefix only (SECRET_PREFIXES), with the KMS key usable only
   * through Secrets Manager. Prefix and variable come from the contracts together, so a stack
   * cannot pair one prefix with the other's variable.
   */
  bindSecrets(options: {
    prefix: SecretPrefixKind;
    actions: readonly SecretAction[];
    key: IKey;
    /** Which secrets under the prefix, as an ARN pattern after it (default `*`: all of them). */
    names?: string;
  }): this {
    const prefix = SECRET_PREFIXES[options.prefix];
    const names = options.names ?? '*';
    const stack = Stack.of(this);
    this.function.addEnvironment(SECRET_PREFIX_ENV[options.prefix], prefix);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}${names}]`,
      reason:
        names === '*'
          ? `Secrets are created per request (their names end with a request id), so the grant is the ${prefix} name prefix, never all secrets.`
          : `One secret per connector (${prefix}${names}: its id, then the suffix Secrets Manager appends), never all secrets.`,
    });
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: options.actions.map((a) => `secretsmanager:${a}`),
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${prefix}${names}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // rekey never puts a resource policy on a secret: access is by identity policies only.
    // An explicit deny keeps it so even if a later grant is wider than this one.
    this.function.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
        resources: ['*'],
      }),
    );
    // Only actions that read or write a secret's value touch the key (DeleteSecret does not).
    const usesKey = options.actions.some((a) =>
      ['CreateSecret', 'PutSecretValue', 'GetSecretValue'].includes(a),
    );
    if (!usesKey) return this;
    this.function.addEnvironment(ENV.kmsKeyId, options.key.keyArn);
    // Encrypting a value needs a data key; a function that only reads (the ticket intake)
    // is given Decrypt alone.
    const writesValues = options.actions.some((a) => ['CreateSecret', 'PutSecretValue'].includes(a));
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: writesValues ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:Decrypt'],
        resources: [options.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    );
    return this;
  }
}

/** The address of a sender written `Name <address>`, or the sender as it is. */
export function addressOf(sender: string): string {
  return /<([^<>]+)>\s*$/.exec(sender)?.[1]?.trim() ?? sender.trim();
}

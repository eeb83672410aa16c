/**
 * A rekey Lambda function with the defaults every function shares — arm64, Node.js 22,
 * bundling, tracing, JSON logs kept 30 days — and grants that bind a resource and its
 * environment variable together, scoped to exactly the actions the function needs.
 */

import { join } from 'node:path';
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lambdaBundling, PROJECT_ROOT } from './lambda-bundling.ts';

export interface RekeyFunctionProps {
  /** The handler module, relative to the repository root. */
  entry: string;
  description: string;
  /** Ship the argon2id binding (default true). */
  argon2?: boolean;
  /** Default 1024 MB: argon2id is CPU-bound and Lambda's CPU share grows with memory. */
  memorySize?: number;
  /** Default 10 seconds. */
  timeout?: Duration;
  environment?: Record<string, string>;
  /** Caps concurrency (protects a downstream quota). Default: unreserved. */
  reservedConcurrentExecutions?: number;
}

/** The DynamoDB actions a function may be granted, by name. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

export class RekeyFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RekeyFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: lambdaBundling({ argon2: props.argon2 ?? true }),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: id,
        ...props.environment,
      },
    });
  }

  /** Sets REKEY_TABLE and allows exactly `actions` on the table (no Scan, no batch, no index). */
  bindTable(table: ITable, actions: readonly TableAction[]): this {
    this.function.addEnvironment('REKEY_TABLE', table.tableName);
    this.function.addToRolePolicy(
      new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
    );
    return this;
  }

  /**
   * Sets the prefix variable and allows `actions` on secrets under `prefix` only, with the
   * KMS key usable only through Secrets Manager.
   */
  bindSecrets(options: {
    prefix: string;
    environmentVariable: string;
    actions: readonly string[];
    key: IKey;
  }): this {
    const stack = Stack.of(this);
    this.function.addEnvironment(options.environmentVariable, options.prefix);
    this.function.addEnvironment('REKEY_KMS_KEY_ID', options.key.keyArn);
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: options.actions.map((a) => `secretsmanager:${a}`),
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${options.prefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [options.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    );
    return this;
  }
}

/**
 * What outlives a deployment: the directory table, the customer-managed key that encrypts
 * every secret rekey writes, and the managed policy that says who may read a temporary
 * password. Kept apart from the API so the API can be torn down and rebuilt without
 * touching data.
 */
import { ArnFormat, Aws, CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { TTL_ATTRIBUTE } from '../local/table.ts';

/** Name prefix of the secrets that hold generated temporary passwords. */
export const TEMPORARY_SECRET_PREFIX = 'rekey/temp/';

/** Name prefix of the secrets that hold DDM administrator credentials. */
export const DATABASE_SECRET_PREFIX = 'rekey/ddm/';

export class StatefulStack extends Stack {
  readonly table: TableV2;
  /**
   * For the principals that fetch temporary passwords (the help-desk role, the ticketing
   * integration): read secrets under the temporary prefix, and never put a resource policy
   * on a secret that would not block public access.
   */
  readonly temporarySecretReaders: ManagedPolicy;
  readonly secretsKey: Key;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.secretsKey = new Key(this, 'SecretsKey', {
      description: 'rekey: encrypts the secrets that hold generated passwords',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The key encrypts secrets and nothing else: no principal, not even an administrator,
    // may use it except through Secrets Manager in this region.
    this.secretsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyThroughSecretsManager',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringNotEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      }),
    );
    this.table = new TableV2(this, 'Directory', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.temporarySecretReaders = this.readersPolicy();
    new CfnOutput(this, 'TemporarySecretReadersPolicyArn', {
      value: this.temporarySecretReaders.managedPolicyArn,
      description: 'Attach to the roles that may read generated temporary passwords.',
    });
  }

  private readersPolicy(): ManagedPolicy {
    const secrets = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${TEMPORARY_SECRET_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const policy = new ManagedPolicy(this, 'TemporarySecretReaders', {
      description: 'rekey: read generated temporary passwords (every read is in CloudTrail)',
      statements: [
        new PolicyStatement({
          sid: 'ReadTemporaryPasswords',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [secrets],
        }),
        new PolicyStatement({
          sid: 'DecryptThroughSecretsManager',
          actions: ['kms:Decrypt'],
          resources: [this.secretsKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
        // A resource policy could open a secret to another account or to everyone: whoever
        // holds this policy may only ever put one that Secrets Manager checked for that
        // (BlockPublicPolicy true; a request without the flag is refused too).
        new PolicyStatement({
          sid: 'OnlyPoliciesThatBlockPublicAccess',
          effect: Effect.DENY,
          actions: ['secretsmanager:PutResourcePolicy'],
          resources: ['*'],
          conditions: { Bool: { 'secretsmanager:BlockPublicPolicy': 'false' } },
        }),
        new PolicyStatement({
          sid: 'NoPolicyWithoutBlockPublicPolicy',
          effect: Effect.DENY,
          actions: ['secretsmanager:PutResourcePolicy'],
          resources: ['*'],
          conditions: { Null: { 'secretsmanager:BlockPublicPolicy': 'true' } },
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${TEMPORARY_SECRET_PREFIX}*]`,
      reason:
        'Temporary secrets are created per request; readers get the rekey/temp/ name prefix, never all secrets.',
    });
    return policy;
  }
}

/**
 * What outlives a deployment: the directory table and the customer-managed key that encrypts
 * every secret rekey writes. Kept apart from the API so the API can be torn down and
 * rebuilt without touching data.
 */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { TTL_ATTRIBUTE } from '../local/table.ts';

export class StatefulStack extends Stack {
  readonly table: TableV2;
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
  }
}

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
import {
  PARTITION_KEY,
  SECRET_PREFIXES,
  SECRET_TAGS,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/contracts.ts';

/** Name prefix of the secrets that hold generated temporary passwords (a contract with the runtime). */
export const TEMPORARY_SECRET_PREFIX = SECRET_PREFIXES.temporary;

/** Name prefix of the secrets that hold DDM administrator credentials (a contract with the runtime). */
export const DATABASE_SECRET_PREFIX = SECRET_PREFIXES.database;

/**
 * The tag naming a secret's realm (issueTemporaryPassword sets it), and the principal tag
 * that binds a reader of temporary passwords to one realm. IAM tag keys may contain ':'.
 */
export const REALM_TAG = SECRET_TAGS.realm;

/** The reader's realm, as an IAM policy variable: its principal tag `rekey:realm`. */
export const PRINCIPAL_REALM = '$' + `{aws:PrincipalTag/${REALM_TAG}}`;

export class StatefulStack extends Stack {
  readonly table: TableV2;
  /**
   * For the principals that fetch temporary passwords (the help-desk role, the ticketing
   * integration): read the temporary passwords of the one realm named by the principal's
   * `rekey:realm` tag, never another realm's, never without the tag; never re-tag a
   * temporary secret; and never put a resource policy on a secret that would not block
   * public access.
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
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.temporarySecretReaders = this.readersPolicy();
    new CfnOutput(this, 'SecretsKeyArn', {
      value: this.secretsKey.keyArn,
      description: 'REKEY_KMS_KEY_ID for the CLI with REKEY_BACKEND=aws (connector create encrypts with it).',
    });
    new CfnOutput(this, 'TemporarySecretReadersPolicyArn', {
      value: this.temporarySecretReaders.managedPolicyArn,
      description: 'Attach to the roles that may read generated temporary passwords.',
    });
  }

  private readersPolicy(): ManagedPolicy {
    const secretArn = (resourceName: string) =>
      this.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    // Secret names are `rekey/temp/{realm}/{user}/{request}` (temporarySecretName).
    const ownRealm = secretArn(`${TEMPORARY_SECRET_PREFIX}${PRINCIPAL_REALM}/*`);
    // The denies hold in every region: a replica of a secret in another region has an ARN of
    // that region, and must not be readable (or replicable) by another realm's reader either.
    const everyRealm = this.formatArn({
      service: 'secretsmanager',
      region: '*',
      resource: 'secret',
      resourceName: `${TEMPORARY_SECRET_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const read = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
    const readOrCopy = [...read, 'secretsmanager:ReplicateSecretToRegions'];
    const policy = new ManagedPolicy(this, 'TemporarySecretReaders', {
      description:
        "rekey: read the generated temporary passwords of the principal's own realm (tag rekey:realm); every read is in CloudTrail",
      statements: [
        // The realm is in the secret's name, which never changes after creation, and in its
        // tag: both must be the reader's.
        new PolicyStatement({
          sid: 'ReadOwnRealmTemporaryPasswords',
          actions: read,
          resources: [ownRealm],
          conditions: { StringEquals: { [`secretsmanager:ResourceTag/${REALM_TAG}`]: PRINCIPAL_REALM } },
        }),
        // Explicit denies hold whatever else the reader's role allows (a wider secrets
        // policy attached beside this one): another realm's secret, or an untagged one…
        new PolicyStatement({
          sid: 'NoOtherRealmsTemporaryPasswords',
          effect: Effect.DENY,
          actions: readOrCopy,
          resources: [everyRealm],
          conditions: { StringNotEquals: { [`secretsmanager:ResourceTag/${REALM_TAG}`]: PRINCIPAL_REALM } },
        }),
        // …and anything at all to a principal that carries no realm tag.
        new PolicyStatement({
          sid: 'NoTemporaryPasswordsWithoutRealm',
          effect: Effect.DENY,
          actions: readOrCopy,
          resources: [everyRealm],
          conditions: { Null: { [`aws:PrincipalTag/${REALM_TAG}`]: 'true' } },
        }),
        // A reader must not move a secret into its realm by re-tagging it.
        new PolicyStatement({
          sid: 'NoRetaggingTemporarySecrets',
          effect: Effect.DENY,
          actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
          resources: [everyRealm],
        }),
        // Nor change, share or delete one: rekey never attaches a resource policy to a
        // temporary secret, so none may be put (a grant to one principal of the account passes
        // BlockPublicPolicy, and could open another realm's secret to a reader without a tag).
        new PolicyStatement({
          sid: 'NoChangesToTemporarySecrets',
          effect: Effect.DENY,
          actions: [
            'secretsmanager:PutResourcePolicy',
            'secretsmanager:DeleteResourcePolicy',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecret',
            'secretsmanager:DeleteSecret',
            'secretsmanager:RotateSecret',
            'secretsmanager:CancelRotateSecret',
          ],
          resources: [everyRealm],
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
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${TEMPORARY_SECRET_PREFIX}<aws:PrincipalTag/${REALM_TAG}>/*]`,
      reason:
        "Temporary secrets are created per request; readers get their own realm's rekey/temp/{realm}/ name prefix (and tag), never all secrets.",
    });
    return policy;
  }
}

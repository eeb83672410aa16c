/**
 * The Secrets Manager API (JSON 1.1 protocol) over the local file vault: just the actions
 * rekey and its CLI call, with Secrets Manager's error names, so the real SDK adapter runs
 * unchanged against the embedded backend.
 */

import { type LocalFileVault, SecretExistsError, type StoredSecret } from '#adapters/local-file-vault.ts';
import { SecretNotFoundError } from '#core/errors.ts';

export interface AwsJsonReply {
  status: number;
  body: Record<string, unknown>;
}

type Input = Record<string, unknown>;

const epoch = (iso: string) => Date.parse(iso) / 1000;
const str = (value: unknown) => (typeof value === 'string' ? value : '');

/** Runs one Secrets Manager action against the vault. */
export function secretsManagerAction(vault: LocalFileVault, action: string, input: Input): AwsJsonReply {
  try {
    return { status: 200, body: run(vault, action, input) };
  } catch (error) {
    if (error instanceof SecretNotFoundError) {
      return awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    if (error instanceof SecretExistsError) {
      return awsError(
        'ResourceExistsException',
        `The operation failed because the secret ${str(input.Name)} already exists.`,
      );
    }
    throw error;
  }
}

function run(vault: LocalFileVault, action: string, input: Input): Record<string, unknown> {
  switch (action) {
    case 'CreateSecret': {
      const tags = Array.isArray(input.Tags) ? (input.Tags as Array<{ Key: string; Value: string }>) : [];
      const secret = vault.createSecret({
        name: str(input.Name),
        value: str(input.SecretString),
        description: str(input.Description),
        kmsKeyId: typeof input.KmsKeyId === 'string' ? input.KmsKeyId : undefined,
        tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
      });
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
    }
    case 'GetSecretValue': {
      const secret = vault.describe(str(input.SecretId));
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: epoch(secret.changedAt),
      };
    }
    case 'PutSecretValue': {
      const secret = vault.putSecretValue(str(input.SecretId), str(input.SecretString));
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
      };
    }
    case 'DeleteSecret': {
      // Local deletion is always immediate, as rekey always asks (ForceDeleteWithoutRecovery).
      const secret = vault.remove(str(input.SecretId));
      if (!secret) throw new SecretNotFoundError(str(input.SecretId));
      return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
    }
    case 'DescribeSecret':
      return describe(vault.describe(str(input.SecretId)));
    case 'ListSecrets': {
      const filters = Array.isArray(input.Filters)
        ? (input.Filters as Array<{ Key: string; Values: string[] }>)
        : [];
      const prefix = filters.find((f) => f.Key === 'name')?.Values?.[0] ?? '';
      return { SecretList: vault.list(prefix).map(describe) };
    }
    default:
      return unsupported(action);
  }
}

function describe(secret: StoredSecret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
    CreatedDate: epoch(secret.createdAt),
    LastChangedDate: epoch(secret.changedAt),
  };
}

function unsupported(action: string): never {
  throw Object.assign(new Error(`The local endpoint does not implement secretsmanager.${action}.`), {
    awsType: 'UnknownOperationException',
  });
}

/** An AWS JSON protocol error reply. */
export function awsError(type: string, message: string, status = 400): AwsJsonReply {
  return { status, body: { __type: type, message } };
}

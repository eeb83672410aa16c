/**
 * The SecretVault port on AWS Secrets Manager (or anything that speaks its API): secrets
 * encrypted with the stack's KMS key, tagged, and deleted without a recovery window.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretNotFoundError, UnavailableError } from '#core/errors.ts';
import type { NewSecret, SecretVault } from '#core/ports.ts';
import { serviceFailure } from './service-errors.ts';

export class SecretsManagerVault implements SecretVault {
  constructor(
    private readonly client: SecretsManagerClient,
    /** The customer-managed key; Secrets Manager's default key when undefined. */
    private readonly kmsKeyId: string | undefined,
  ) {}

  async create(secret: NewSecret): Promise<{ secretId: string }> {
    const out = await this.call(() =>
      this.client.send(
        new CreateSecretCommand({
          Name: secret.name,
          SecretString: secret.value,
          Description: secret.description,
          KmsKeyId: this.kmsKeyId,
          Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    if (!out.ARN) throw new UnavailableError('The vault returned no secret id.');
    return { secretId: out.ARN };
  }

  async read(secretId: string): Promise<string> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (out.SecretString === undefined) throw new SecretNotFoundError(secretId);
      return out.SecretString;
    } catch (error) {
      // A secret scheduled for deletion answers InvalidRequestException: it is gone for us.
      if (error instanceof ResourceNotFoundException || error instanceof InvalidRequestException) {
        throw new SecretNotFoundError(secretId, { cause: error });
      }
      if (error instanceof SecretNotFoundError) throw error;
      throw serviceFailure('vault', error);
    }
  }

  async putValue(secretId: string, value: string): Promise<void> {
    await this.call(() =>
      this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value })),
    );
  }

  async delete(secretId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw serviceFailure('vault', error);
    }
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw serviceFailure('vault', error);
    }
  }
}

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerVault } from '#adapters/secrets-manager-vault.ts';
import { SecretNotFoundError, UnavailableError } from '#core/errors.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rekey/temp/acme/u-1/req-1-AbCdEf';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const meta = { $metadata: {} };

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'us-east-1' });

beforeEach(() => sm.reset());
afterAll(() => sm.restore());

describe('SecretsManagerVault', () => {
  describe('create', () => {
    it('sends the name, value, description, tags and the stack’s KMS key, and returns the ARN', async () => {
      sm.on(CreateSecretCommand).resolves({ ARN, Name: 'rekey/temp/acme/u-1/req-1' });
      const vault = new SecretsManagerVault(client, KEY);

      const { secretId } = await vault.create({
        name: 'rekey/temp/acme/u-1/req-1',
        value: '{"password":"x"}',
        description: 'rekey temporary password',
        tags: { 'rekey:realm': 'acme', 'rekey:user': 'u-1' },
      });

      expect(secretId).toBe(ARN);
      const calls = sm.commandCalls(CreateSecretCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toEqual({
        Name: 'rekey/temp/acme/u-1/req-1',
        SecretString: '{"password":"x"}',
        Description: 'rekey temporary password',
        KmsKeyId: KEY,
        Tags: [
          { Key: 'rekey:realm', Value: 'acme' },
          { Key: 'rekey:user', Value: 'u-1' },
        ],
      });
    });

    it('leaves the key to Secrets Manager’s default when the stack names none', async () => {
      sm.on(CreateSecretCommand).resolves({ ARN });
      await new SecretsManagerVault(client, undefined).create({
        name: 'n',
        value: 'v',
        description: 'd',
        tags: {},
      });
      expect(sm.commandCalls(CreateSecretCommand)[0]?.args[0].input.KmsKeyId).toBeUndefined();
    });

    it.each([
      ['a name already taken', new ResourceExistsException({ message: 'exists', ...meta })],
      ['an internal failure', new InternalServiceError({ message: 'boom', ...meta })],
      ['a network error', new Error('socket hang up')],
    ])('turns %s into UnavailableError', async (_what, error) => {
      sm.on(CreateSecretCommand).rejects(error);
      const failure = new SecretsManagerVault(client, KEY).create({
        name: 'n',
        value: 'v',
        description: 'd',
        tags: {},
      });
      await expect(failure).rejects.toBeInstanceOf(UnavailableError);
      await expect(failure).rejects.toHaveProperty('cause', error);
    });

    it('refuses an answer without an ARN', async () => {
      sm.on(CreateSecretCommand).resolves({});
      await expect(
        new SecretsManagerVault(client, KEY).create({ name: 'n', value: 'v', description: 'd', tags: {} }),
      ).rejects.toBeInstanceOf(UnavailableError);
    });
  });

  describe('read', () => {
    it('returns the secret string', async () => {
      sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ ARN, SecretString: '{"a":1}' });
      expect(await new SecretsManagerVault(client, KEY).read(ARN)).toBe('{"a":1}');
    });

    it.each([
      ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'gone', ...meta })],
      // A secret scheduled for deletion answers InvalidRequestException.
      ['InvalidRequestException', new InvalidRequestException({ message: 'marked for deletion', ...meta })],
    ])('turns %s into SecretNotFoundError', async (_name, error) => {
      sm.on(GetSecretValueCommand).rejects(error);
      await expect(new SecretsManagerVault(client, KEY).read(ARN)).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    });

    it('treats a secret without a string value as not found', async () => {
      sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: new Uint8Array([1]) });
      await expect(new SecretsManagerVault(client, KEY).read(ARN)).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    });

    it('turns any other failure into UnavailableError', async () => {
      sm.on(GetSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', ...meta }));
      await expect(new SecretsManagerVault(client, KEY).read(ARN)).rejects.toBeInstanceOf(UnavailableError);
    });
  });

  describe('putValue', () => {
    it('writes a new version of the secret', async () => {
      sm.on(PutSecretValueCommand).resolves({ ARN });
      await new SecretsManagerVault(client, KEY).putValue(ARN, 'v2');
      expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
        SecretId: ARN,
        SecretString: 'v2',
      });
    });

    it('turns a failure into UnavailableError', async () => {
      sm.on(PutSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', ...meta }));
      await expect(new SecretsManagerVault(client, KEY).putValue(ARN, 'v2')).rejects.toBeInstanceOf(
        UnavailableError,
      );
    });
  });

  describe('delete', () => {
    it('deletes at once, without a recovery window', async () => {
      sm.on(DeleteSecretCommand).resolves({ ARN });
      await new SecretsManagerVault(client, KEY).delete(ARN);
      expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
        SecretId: ARN,
        ForceDeleteWithoutRecovery: true,
      });
    });

    it('accepts a secret that is already gone', async () => {
      sm.on(DeleteSecretCommand).rejects(new ResourceNotFoundException({ message: 'gone', ...meta }));
      await expect(new SecretsManagerVault(client, KEY).delete(ARN)).resolves.toBeUndefined();
    });

    it('turns any other failure into UnavailableError', async () => {
      sm.on(DeleteSecretCommand).rejects(new InternalServiceError({ message: 'boom', ...meta }));
      await expect(new SecretsManagerVault(client, KEY).delete(ARN)).rejects.toBeInstanceOf(UnavailableError);
    });
  });
});

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  emailFromEnv,
  eventBusNameFromEnv,
  MissingSettingError,
  settingsFromEnv,
} from '#adapters/settings.ts';
import { ENV, RUNTIME_ENV, TICKET_INTAKE_ENV, TICKET_WORKER_ENV } from '#functions/contracts.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { LOCAL_ENV, localEnv, localSettings, useLocalEnv } from '#infra/local/local-settings.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Values no message may repeat: a setting's value is never printed, even beside a missing one. */
const PRODUCTION_ENV: NodeJS.ProcessEnv = {
  [ENV.table]: 'prod-table-7f3a',
  [ENV.temporarySecretPrefix]: 'prod/temp-7f3a/',
  [ENV.databaseSecretPrefix]: 'prod/ddm-7f3a/',
  [ENV.kmsKeyId]: 'arn:aws:kms:eu-west-1:123456789012:key/7f3a',
  [ENV.eventBusName]: 'prod-bus-7f3a',
};

const without = (env: NodeJS.ProcessEnv, name: string): NodeJS.ProcessEnv => {
  const copy = { ...env };
  delete copy[name];
  return copy;
};

function thrownBy(read: () => unknown): Error {
  try {
    read();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to throw');
}

describe('production settings', () => {
  it('are read from the environment, by the contract names, with no default', () => {
    expect(settingsFromEnv(PRODUCTION_ENV)).toEqual({
      tableName: 'prod-table-7f3a',
      temporarySecretPrefix: 'prod/temp-7f3a/',
      databaseSecretPrefix: 'prod/ddm-7f3a/',
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/7f3a',
    });
  });

  it.each(RUNTIME_ENV)('fail fast without %s, naming it and no value', (name) => {
    for (const env of [without(PRODUCTION_ENV, name), { ...PRODUCTION_ENV, [name]: '' }]) {
      const error = thrownBy(() => settingsFromEnv(env));
      expect(error).toBeInstanceOf(MissingSettingError);
      expect((error as MissingSettingError).variable).toBe(name);
      expect(error.message).toContain(name);
      expect(error.message).not.toMatch(/7f3a|rekey\/|'rekey'/);
    }
  });

  it('require exactly RUNTIME_ENV: with only those set they start, the KMS key unset', () => {
    const only = Object.fromEntries(RUNTIME_ENV.map((name) => [name, PRODUCTION_ENV[name]]));
    expect(settingsFromEnv(only).kmsKeyId).toBeUndefined();
    expect(() => settingsFromEnv({})).toThrow(MissingSettingError);
  });

  it('of the sweeper fail fast as well (its grace stays optional)', () => {
    const error = thrownBy(() => sweeperSettingsFromEnv(without(PRODUCTION_ENV, ENV.table)));
    expect(error.message).toContain(ENV.table);
    expect(sweeperSettingsFromEnv(PRODUCTION_ENV).graceSeconds).toBe(900);
  });

  it('of the ticket worker require its bus; the e-mail sender stays optional', () => {
    expect(eventBusNameFromEnv(PRODUCTION_ENV)).toBe('prod-bus-7f3a');
    const error = thrownBy(() => eventBusNameFromEnv(without(PRODUCTION_ENV, ENV.eventBusName)));
    expect(error.message).toContain(ENV.eventBusName);
    expect(error.message).not.toContain('7f3a');
    expect(TICKET_WORKER_ENV).toContain(ENV.eventBusName);
    expect(TICKET_INTAKE_ENV).toContain(ENV.eventBusName);
    // Audit records leave as log lines: the shared runtime no longer needs the bus.
    expect(RUNTIME_ENV).not.toContain(ENV.eventBusName);
    expect(emailFromEnv({})).toBeUndefined();
    expect(emailFromEnv({ [ENV.emailFrom]: 'ops@rekey.example' })).toBe('ops@rekey.example');
  });

  it('make a function fail at cold start, naming the variable (a fresh Node, no rekey env)', async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('REKEY_')),
    ) as NodeJS.ProcessEnv;
    const run = promisify(execFile)(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', join(ROOT, 'functions/sweeper/handler.ts')],
      { cwd: ROOT, env: { ...env, AWS_REGION: 'us-east-1' } },
    );
    const failure = (await run.then(
      () => new Error('the handler loaded without settings'),
      (error: unknown) => error,
    )) as { code?: number; stderr?: string };
    expect(failure.code).not.toBe(0);
    expect(failure.stderr).toContain(`MissingSettingError: ${ENV.table} is not set`);
  });
});

describe('the local settings (npm start, the CLI, the tests)', () => {
  it('fill what the environment leaves unset, never overriding it, never changing it', () => {
    const given: NodeJS.ProcessEnv = { [ENV.table]: 'mine', [ENV.temporarySecretPrefix]: '' };
    const filled = localEnv(given);
    expect(filled[ENV.table]).toBe('mine');
    expect(filled[ENV.temporarySecretPrefix]).toBe('rekey/temp/');
    expect(filled[ENV.eventBusName]).toBe('rekey');
    expect(given).toEqual({ [ENV.table]: 'mine', [ENV.temporarySecretPrefix]: '' });
    expect(localSettings({})).toEqual({
      tableName: 'rekey',
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      kmsKeyId: undefined,
    });
    const env: NodeJS.ProcessEnv = {};
    useLocalEnv(env);
    expect(env).toEqual(LOCAL_ENV);
  });

  it('cover everything the runtime and the ticket worker require', () => {
    for (const name of TICKET_WORKER_ENV.filter((n) => n !== ENV.emailFrom)) {
      expect(LOCAL_ENV[name], name).toBeTruthy();
    }
  });

  it('live only in infra/local: no production module names a default table or prefix', () => {
    const settings = readFileSync(join(ROOT, 'functions/adapters/settings.ts'), 'utf8');
    expect(settings).not.toMatch(/\|\|\s*['"`]|\?\?\s*['"`]/);
    // Anywhere in functions/: a read of one of these variables followed by a fallback.
    const keys = Object.entries(ENV).filter(([, name]) => Object.hasOwn(LOCAL_ENV, name));
    expect(keys.length).toBe(Object.keys(LOCAL_ENV).length);
    const alternatives = keys.flatMap(([key, name]) => [
      `ENV\\.${key}\\]`,
      `\\.${name}\\b`,
      `\\[['"\`]${name}['"\`]\\]`,
    ]);
    const defaulted = new RegExp(`(${alternatives.join('|')})\\s*(\\?\\?|\\|\\|)`);
    // The check can see one: a planted default in each spelling.
    for (const [key, name] of keys) {
      expect(`env[ENV.${key}] ?? 'x'`).toMatch(defaulted);
      expect(`process.env.${name} || 'x'`).toMatch(defaulted);
      expect(`env['${name}'] ?? \`x\``).toMatch(defaulted);
    }
    const sources = readdirSync(join(ROOT, 'functions'), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts'),
    );
    expect(sources.length).toBeGreaterThan(50);
    for (const file of sources) {
      expect(readFileSync(join(ROOT, 'functions', file), 'utf8'), file).not.toMatch(defaulted);
    }
  });
});

describe('functions/contracts.ts', () => {
  it('imports nothing, so stacks, functions and local tools can all load it', () => {
    const source = readFileSync(join(ROOT, 'functions/contracts.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*import\b|\brequire\(|\bimport\(/m);
  });
});

/**
 * The settings every function reads from its environment, by the names in
 * functions/contracts.ts. Production fails fast: a required variable that is missing or empty
 * throws at cold start, naming the variable (never a value), rather than falling back to a
 * default that would point the function at the wrong table or secrets. There are no defaults
 * here: `npm start`, the CLI and the tests get theirs from infra/local/local-settings.ts.
 * A module of its own, so that a function (the sweeper) or a tool can read them without
 * loading the runtime and the argon2id binding it wires.
 */
import { ENV, type EnvName } from '#functions/contracts.ts';

export interface RekeySettings {
  tableName: string;
  temporarySecretPrefix: string;
  databaseSecretPrefix: string;
  /** Optional: set (by the stacks) only for functions that write a secret's value. */
  kmsKeyId: string | undefined;
  /** Optional: the end user's page, linked from notifications and ticket results. */
  passwordPageUrl?: string | undefined;
}

/**
 * The service's own names: no password a person chooses may contain one (NIST SP 800-63B-4's
 * context-specific words, besides the username and the realm's id and name). `oci` is too
 * short to check as a substring (core/policy.ts's MIN_CONTEXT_WORD_LENGTH): `oracle` stands for it.
 */
export const SERVICE_WORDS: readonly string[] = [
  'rekey',
  'oracle',
  'huawei',
  'alibaba',
  'aliyun',
  'cloudsso',
];

/** A required setting is missing: names the variable, never a value. */
export class MissingSettingError extends Error {
  constructor(readonly variable: EnvName) {
    super(`${variable} is not set; this function cannot start without it.`);
    this.name = 'MissingSettingError';
  }
}

/** The value of a required variable; missing or empty throws a MissingSettingError. */
export function requiredSetting(env: NodeJS.ProcessEnv, name: EnvName): string {
  const value = env[name];
  if (!value) throw new MissingSettingError(name);
  return value;
}

/** The value of an optional variable; empty counts as unset. */
export function optionalSetting(env: NodeJS.ProcessEnv, name: EnvName): string | undefined {
  return env[name] || undefined;
}

/** The runtime's settings: every name in RUNTIME_ENV (functions/contracts.ts) is required. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): RekeySettings {
  return {
    tableName: requiredSetting(env, ENV.table),
    temporarySecretPrefix: requiredSetting(env, ENV.temporarySecretPrefix),
    databaseSecretPrefix: requiredSetting(env, ENV.databaseSecretPrefix),
    kmsKeyId: optionalSetting(env, ENV.kmsKeyId),
    passwordPageUrl: optionalSetting(env, ENV.passwordPageUrl),
  };
}

/**
 * The rekey bus, for the functions that put events on it: the ticket intake (requests), the
 * ticket worker (results) and the audit forwarder (audit records). Required where read; the
 * stacks set it on those three alone.
 */
export function eventBusNameFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return requiredSetting(env, ENV.eventBusName);
}

/**
 * The SES sender of e-mail notifications. Optional on purpose: a missing sender fails each
 * e-mail (an UnavailableError at send), not the cold start of a function that may only send
 * SMS; the stacks set it on every notifying function (test/infra/environment.test.ts).
 */
export function emailFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return optionalSetting(env, ENV.emailFrom);
}

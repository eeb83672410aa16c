/**
 * The runtime of the functions that hash passwords: the shared wiring
 * (functions/adapters/runtime-base.ts) with the argon2id hasher. The Lambda entry points that
 * hash and the local gateway come through here; only the client options (a local endpoint)
 * and the notifier differ. Importing this module loads the argon2id binding: a function that
 * never hashes builds its runtime with `buildRuntime` and `noHasher` instead.
 */
import { nfkcHasher } from '#core/hashing.ts';
import { argon2idHasher } from './argon2-hasher.ts';
import { buildRuntime, type Runtime, type RuntimeOptions } from './runtime-base.ts';

export type { Runtime, RuntimeOptions } from './runtime-base.ts';
export { type RekeySettings, settingsFromEnv } from './settings.ts';

/** argon2id over the NFKC form of each new password (old hashes keep verifying). */
const nfkcArgon2id = nfkcHasher(argon2idHasher);

/** Builds the runtime for one function (`service`), against AWS or a compatible endpoint. */
export function createRuntime(service: string, options: RuntimeOptions = {}): Runtime {
  return buildRuntime(service, nfkcArgon2id, options);
}

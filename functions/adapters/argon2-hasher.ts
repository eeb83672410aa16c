/**
 * The argon2id hasher, through the native @node-rs/argon2 binding. Only the runtime of the
 * functions that hash (functions/adapters/runtime.ts) imports this module: ManageDdmAdmin,
 * the Sweeper and the token authorizer never load the binding (checked by the
 * `non-hashing-functions-load-no-argon2` rule in .dependency-cruiser.cjs).
 */
import { createRequire } from 'node:module';
import { ARGON2ID_PARAMETERS, type PasswordHasher } from '#core/hashing.ts';

// The binding is CommonJS around a native addon. Loading it with `require` rather than an ES
// `import` skips the ESM-to-CommonJS translation, which measured ~7 ms of every cold start.
// (`import.meta.url` is undefined when bundled as CommonJS; `__filename` then exists.)
// dependency-cruiser counts `nativeRequire(...)` calls as imports (`exoticRequireStrings`).
const nativeRequire = createRequire(import.meta.url ?? __filename);
const { hash, verify } = nativeRequire('@node-rs/argon2') as typeof import('@node-rs/argon2');

// `Algorithm` is a const enum in the binding's typings; 2 is its Argon2id member.
const ARGON2ID = 2;

/**
 * The argon2id hasher. Hashing runs on libuv's thread pool, so it does not block the event
 * loop; the binding's verify is the RustCrypto `argon2` crate's, which compares digests in constant time.
 */
export const argon2idHasher: PasswordHasher = {
  hash: (password) => hash(password, { ...ARGON2ID_PARAMETERS, algorithm: ARGON2ID }),
  async verify(phc, password) {
    try {
      return await verify(phc, password);
    } catch {
      // A malformed stored hash verifies nothing; it must never become a 500 that differs
      // from a wrong password.
      return false;
    }
  },
};

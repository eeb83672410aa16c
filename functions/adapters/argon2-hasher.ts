/**
 * The argon2id hasher, through the native @node-rs/argon2 binding. Only the runtime of the
 * functions that hash (functions/adapters/runtime.ts) imports this module: ManageDdmAdmin,
 * the Sweeper and the token authorizer never load the binding (checked by the
 * `non-hashing-functions-load-no-argon2` rule in .dependency-cruiser.cjs).
 */
import { createRequire } from 'node:module';
import { ARGON2ID_PARAMETERS, type PasswordHasher } from '#core/hashing.ts';

type Argon2Binding = Pick<typeof import('@node-rs/argon2'), 'hash' | 'verify'>;

// Where the stacks point NAPI_RS_NATIVE_LIBRARY_PATH at the binary (every deployed function
// that hashes: infra/constructs/rekey-function.ts), the addon is opened directly with
// `process.dlopen`: the napi-rs loader (@node-rs/argon2's index.js, 700 lines that probe the
// platform and then `require` that same path) and the CommonJS loader cost ~4 ms of every cold
// start on top of the ~2.4 ms the addon itself takes (docs/decisions.md). The addon exports the
// same `hash` and `verify` the loader re-exports. Elsewhere (npm start, tests, the CLI) the
// package is loaded as usual, with `require` rather than an ES `import`, which skips the
// ESM-to-CommonJS translation (~7 ms). (`import.meta.url` is undefined when bundled as
// CommonJS; `__filename` then exists.) dependency-cruiser counts `nativeRequire(...)` calls
// as imports (`exoticRequireStrings`).
function loadBinding(): Argon2Binding {
  const binary = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (binary) {
    const addon = { exports: {} as Argon2Binding };
    process.dlopen(addon, binary);
    return addon.exports;
  }
  const nativeRequire = createRequire(import.meta.url ?? __filename);
  return nativeRequire('@node-rs/argon2') as Argon2Binding;
}
const { hash, verify } = loadBinding();

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

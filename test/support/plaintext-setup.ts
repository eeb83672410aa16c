/**
 * The suite-wide plaintext check (a vitest setup file, loaded before every test file in every
 * worker): no password the code under test handles may reach what the worker writes.
 *
 * 1. A ledger of passwords. The methods of `argon2idHasher` (and of the unit tests'
 *    `fastHasher`) are wrapped, so every password hashed or verified — given, current, new,
 *    generated — is recorded; so are the `password` fields of every secret value written to
 *    the vaults the tests use (LocalFileVault's createSecret/putSecretValue, which the local
 *    Secrets Manager endpoint and its create/putValue use, and the fakes' InMemorySecretVault),
 *    which covers DDM administrator passwords that are never hashed; and every password checked
 *    against the common-password blocklist (issue 13: a refused password is never hashed or
 *    stored, so only this sees it). The wrappers only record: same arguments, same `this`,
 *    same result.
 * 2. A capture of all output: process.stdout.write, process.stderr.write and console.*,
 *    recorded and passed on. Tests that replace these themselves (an assignment, or
 *    `vi.spyOn(...).mockImplementation`, as capture-output.ts does) are still seen: the
 *    properties become accessors whose getter hands out a recording wrapper around whatever
 *    was last assigned, and vi.spyOn's implementations for them are wrapped the same way.
 *    Responses are output too: every response a local gateway of this worker sends, status,
 *    headers and body, is recorded as `gateway.response`. So are audit records (issue 14):
 *    every record an AuditTrail builds — to the bus, the local audit log or memory — is
 *    recorded as `audit.record` (AuditTrail.prototype.record is wrapped). Metrics are EMF
 *    lines on stdout, captured above.
 * 3. In an afterAll (per file, the last to run), every ledger password of 8 characters or more
 *    (see MIN_PASSWORD_LENGTH) is searched for in everything captured, as is and encoded.
 *
 * What it does not see: child processes (a spawned `npx rekey`, the load bench — not in the
 * suite) whose output reaches a test through pipes is the test's to check, and their
 * passwords are not in this worker's ledger; output written straight to a file descriptor
 * (fs.writeSync(1, ...)); spies given a return value instead of an implementation; the
 * SecretsManagerVault unit tests (mocked SDK, not patched: loading the SDK in every file would
 * slow the suite). Intended destinations are not output: vault contents, the local outbox
 * and events (test/integration/no-plaintext.test.ts checks those for its scenario). Responses
 * are: every response a local gateway of this worker sends is recorded as `gateway.response`
 * (a child `npm start`'s are not, as above).
 */
import { relative } from 'node:path';
import { afterAll, expect, vi } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { AuditTrail, auditRecord } from '#adapters/audit.ts';
import { CONTAINER_BLOCKLIST } from '#adapters/blocklist.ts';
import { LocalFileVault } from '#adapters/local-file-vault.ts';
import type { PasswordHasher } from '#core/hashing.ts';
import { observeGatewayResponses } from '#infra/local/gateway-observers.ts';
import { fastHasher, InMemorySecretVault } from '#test/support/fakes.ts';
import {
  chunkText,
  describeLeaks,
  findLeaks,
  formatConsoleArgs,
  ledgerState,
  type OutputKind,
  perProcess,
  recordOutput,
  recordPassword,
  recordSecretValue,
  resetLedger,
} from '#test/support/password-ledger.ts';

const PATCHED = Symbol.for('rekey.test.password-ledger.patched');
type Patchable = object & { [PATCHED]?: true };

/** Wraps `target[name]` so that `record` sees its arguments first. Once per object. */
function wrapMethod<T extends object>(
  target: T,
  name: keyof T & string,
  record: (args: unknown[]) => void,
): void {
  const original = target[name] as unknown as (...args: unknown[]) => unknown;
  if (typeof original !== 'function') throw new Error(`plaintext-setup: ${name} is not a method`);
  const wrapped = function (this: unknown, ...args: unknown[]) {
    try {
      record(args);
    } catch {
      // Recording never changes what the call does.
    }
    return original.apply(this, args);
  };
  Object.defineProperty(target, name, { ...Object.getOwnPropertyDescriptor(target, name), value: wrapped });
}

function patchOnce(target: Patchable, patch: () => void): void {
  if (target[PATCHED]) return;
  patch();
  Object.defineProperty(target, PATCHED, { value: true });
}

function patchHasher(hasher: PasswordHasher, label: string): void {
  patchOnce(hasher, () => {
    wrapMethod(hasher, 'hash', ([password]) => recordPassword(password, `${label}.hash`));
    wrapMethod(hasher, 'verify', ([, password]) => recordPassword(password, `${label}.verify`));
  });
}

// ---- 1. The ledger -------------------------------------------------------------------------

patchHasher(argon2idHasher, 'argon2idHasher');
patchHasher(fastHasher, 'fastHasher');
patchOnce(CONTAINER_BLOCKLIST, () => {
  wrapMethod(CONTAINER_BLOCKLIST, 'has', ([password]) => recordPassword(password, 'blocklist.has'));
});
patchOnce(LocalFileVault.prototype, () => {
  wrapMethod(LocalFileVault.prototype, 'createSecret', ([secret]) =>
    recordSecretValue((secret as { value?: unknown } | undefined)?.value, 'LocalFileVault.createSecret'),
  );
  wrapMethod(LocalFileVault.prototype, 'putSecretValue', ([, value]) =>
    recordSecretValue(value, 'LocalFileVault.putSecretValue'),
  );
});
patchOnce(InMemorySecretVault.prototype, () => {
  wrapMethod(InMemorySecretVault.prototype, 'create', ([secret]) =>
    recordSecretValue((secret as { value?: unknown } | undefined)?.value, 'InMemorySecretVault.create'),
  );
  wrapMethod(InMemorySecretVault.prototype, 'putValue', ([, value]) =>
    recordSecretValue(value, 'InMemorySecretVault.putValue'),
  );
});

// ---- 2. The capture ------------------------------------------------------------------------

// Audit records: the record each entry becomes, as it goes on the bus (JSON).
patchOnce(AuditTrail.prototype, () => {
  wrapMethod(
    AuditTrail.prototype as unknown as { record: (...args: unknown[]) => unknown },
    'record',
    ([entry]) =>
      recordOutput('audit.record', JSON.stringify(auditRecord(entry as Parameters<typeof auditRecord>[0]))),
  );
});

// Responses: every answer a local gateway of this worker sends, headers included (the tests'
// own requests, the vendor SDK tests, the page, the hostile-input properties). A response is
// not where a password goes either: rekey answers with a secret's ARN, and a refusal repeats
// nothing the caller sent.
const RESPONSES_OBSERVED = Symbol.for('rekey.test.password-ledger.responses');
const processWithResponses = process as typeof process & { [RESPONSES_OBSERVED]?: true };
if (!processWithResponses[RESPONSES_OBSERVED]) {
  processWithResponses[RESPONSES_OBSERVED] = true;
  observeGatewayResponses(({ result }) => recordOutput('gateway.response', JSON.stringify(result)));
}

type Fn = (...args: unknown[]) => unknown;
interface Taps {
  /** What a recording wrapper wraps → its wrapper per kind, and back (tests save and restore them). */
  wrapperOf: WeakMap<Fn, Map<OutputKind, Fn>>;
  wrappedBy: WeakMap<Fn, Fn>;
  /** The captured properties: object → property → kind of output. */
  watched: WeakMap<object, Map<string, OutputKind>>;
}
// Per process, like the streams and vi.spyOn they patch (a process may run several files).
const taps = perProcess<Taps>('rekey.test.password-ledger.taps', () => ({
  wrapperOf: new WeakMap(),
  wrappedBy: new WeakMap(),
  watched: new WeakMap(),
}));
const { wrapperOf, wrappedBy, watched } = taps;

/** `fn`, recording what it is given as `kind` output (once, however deeply taps nest). */
function tap(fn: Fn, kind: OutputKind, text: (args: unknown[]) => string): Fn {
  const known = wrapperOf.get(fn) ?? new Map<OutputKind, Fn>();
  wrapperOf.set(fn, known);
  const existing = known.get(kind);
  if (existing) return existing;
  const wrapper = function (this: unknown, ...args: unknown[]) {
    if (ledgerState.depth === 0) {
      try {
        recordOutput(kind, text(args));
      } catch {
        // Recording never changes what the call does.
      }
    }
    if (ledgerState.swallow) return kind.startsWith('process.') ? true : undefined;
    ledgerState.depth++;
    try {
      return fn.apply(this, args);
    } finally {
      ledgerState.depth--;
    }
  };
  known.set(kind, wrapper);
  wrappedBy.set(wrapper, fn);
  return wrapper;
}

const streamText = (args: unknown[]) => chunkText(args[0]);
const consoleText = (args: unknown[]) => `${formatConsoleArgs(args)}\n`;

/** Makes `target[name]` an accessor that always hands out a recording wrapper. */
function capture(target: object, name: string, kind: OutputKind, text: (args: unknown[]) => string): void {
  const kinds = watched.get(target) ?? new Map<string, OutputKind>();
  watched.set(target, kinds);
  kinds.set(name, kind);
  const current = (target as Record<string, unknown>)[name];
  if (typeof current !== 'function') return;
  let inner = wrappedBy.get(current as Fn) ?? (current as Fn);
  Object.defineProperty(target, name, {
    configurable: true,
    enumerable: Object.getOwnPropertyDescriptor(target, name)?.enumerable ?? false,
    get: () => tap(inner, kind, text),
    set: (fn: Fn) => {
      // Restoring a saved wrapper restores what it wraps.
      inner = wrappedBy.get(fn) ?? fn;
    },
  });
}

const CAPTURED = Symbol.for('rekey.test.password-ledger.captured');
const processWithMark = process as typeof process & { [CAPTURED]?: true };
if (!processWithMark[CAPTURED]) {
  processWithMark[CAPTURED] = true;
  capture(process.stdout, 'write', 'process.stdout', streamText);
  capture(process.stderr, 'write', 'process.stderr', streamText);
}
// vitest gives each file its console; patch it once.
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const) {
  if (!wrappedBy.has(console[method] as Fn) && !Object.getOwnPropertyDescriptor(console, method)?.get) {
    capture(console, method, `console.${method}`, consoleText);
  }
}

// vi.spyOn(process.stdout, 'write').mockImplementation(...) swaps the accessor for a mock
// whose implementation would never reach a tap: wrap such implementations too.
const viWithMark = vi as typeof vi & { [PATCHED]?: true };
if (!viWithMark[PATCHED]) {
  viWithMark[PATCHED] = true;
  const spyOn = vi.spyOn.bind(vi) as (...args: unknown[]) => unknown;
  (vi as { spyOn: unknown }).spyOn = (...args: unknown[]) => {
    const spy = spyOn(...args) as {
      mockImplementation: (fn: Fn) => unknown;
      mockImplementationOnce: (fn: Fn) => unknown;
    };
    const [target, name] = args;
    const kind = watched.get(target as object)?.get(name as string);
    if (!kind) return spy;
    const text = kind.startsWith('process.') ? streamText : consoleText;
    for (const method of ['mockImplementation', 'mockImplementationOnce'] as const) {
      const set = spy[method].bind(spy);
      spy[method] = (fn: Fn) => set(tap(fn, kind, text));
    }
    return spy;
  };
}

// ---- 3. The check --------------------------------------------------------------------------

resetLedger();
ledgerState.installed = true;

afterAll(() => {
  const leaks = findLeaks();
  const path = expect.getState().testPath;
  const file = path ? relative(process.cwd(), path) : 'this test file';
  if (leaks.length > 0) throw new Error(describeLeaks(file, leaks));
});

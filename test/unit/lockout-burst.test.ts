/**
 * Lock-out under concurrency (issue 9, finding 1): however many change-password attempts
 * arrive at once, and in whatever order their reads and writes interleave, at most the realm's
 * `maxFailedAttempts` of them are verified against the user's real hash per lock period, and an
 * attempt that is not evaluated gets the very same 401 as a wrong password — the right
 * password included. fast-check's scheduler runs every directory call in a random order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import { NotAuthenticatedError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { DUMMY_HASH, type PasswordHasher } from '#core/hashing.ts';
import type { Directory } from '#core/ports.ts';
import { changeOwnPassword } from '#core/use-cases/change-own-password.ts';
import { type FakeDeps, fakeDeps, fastHasher } from '#test/support/fakes.ts';

const RIGHT = 'Right-Current-Pass-1';
const wrong = (i: number) => `Wrong-Guess-${i}-Pass`;
const NEW = (i: number) => `Fresh-Chosen-Pass-${i}`;

/**
 * A hasher that counts the verifications that could succeed: those against the hash the user
 * held when the burst began (not the dummy, not a password chosen during the burst).
 */
function countingHasher(): PasswordHasher & { real: number; target: string } {
  const counter = {
    real: 0,
    target: '',
    hash: (password: string) => fastHasher.hash(password),
    verify: (phc: string, password: string) => {
      if (phc === counter.target && phc !== DUMMY_HASH) counter.real++;
      return fastHasher.verify(phc, password);
    },
  };
  return counter;
}

/** The directory of `deps` with every call passed through the scheduler `s`. */
function scheduled(directory: Directory, s: fc.Scheduler): Directory {
  const wrapped = Object.create(directory) as Directory;
  for (const name of [
    'getRealm',
    'findRealm',
    'getUser',
    'findUsersByUsername',
    'countFailure',
    'saveUser',
  ] as const) {
    const original = (directory[name] as (...args: unknown[]) => Promise<unknown>).bind(directory);
    Object.assign(wrapped, { [name]: s.scheduleFunction(original) });
  }
  return wrapped;
}

async function setUp(limit: number, hasher: ReturnType<typeof countingHasher>): Promise<FakeDeps> {
  const deps = fakeDeps({ hasher });
  await deps.directory.createRealm(
    newRealm('r1', 'acme', {
      now: deps.clock.now(),
      lockout: { maxFailedAttempts: limit, lockSeconds: 900 },
    }),
  );
  hasher.target = await fastHasher.hash(RIGHT);
  await deps.directory.createUser({
    ...newUser({ realmId: 'r1', userId: 'u1', username: 'alice' }, deps.clock.now()),
    credential: { hash: hasher.target, kind: 'PERMANENT', setAt: '2026-01-01T00:00:00Z' },
  });
  return deps;
}

type Outcome = { ok: true } | { ok: false; error: unknown };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => ({ ok: true }) as const,
    (error: unknown) => ({ ok: false, error }) as const,
  );

describe('lock-out under a burst of concurrent attempts', () => {
  it('evaluates at most the limit and answers the right password, sent last of 40, with the same 401', async () => {
    const hasher = countingHasher();
    const deps = await setUp(10, hasher);

    const attempts = Array.from({ length: 40 }, (_, i) =>
      settle(
        changeOwnPassword(deps, {
          username: 'alice',
          currentPassword: i === 39 ? RIGHT : wrong(i),
          newPassword: NEW(i),
        }),
      ),
    );
    const outcomes = await Promise.all(attempts);

    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(NotAuthenticatedError);
      expect((error as Error).message).toBe(NOT_AUTHENTICATED_MESSAGE);
    }
    expect(hasher.real).toBeLessThanOrEqual(10);
    const user = await deps.directory.getUser('u1');
    expect(user?.lockedUntil).toBeDefined();
    expect(await fastHasher.verify(user?.credential?.hash ?? '', RIGHT)).toBe(true);
  });

  it('never verifies more than the limit against the real hash, whatever the interleaving (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (s, limit, burst, rightAt) => {
          const hasher = countingHasher();
          const deps = await setUp(limit, hasher);
          const directory = scheduled(deps.directory, s);
          const right = rightAt === undefined ? -1 : rightAt % burst;
          const runs = Array.from({ length: burst }, (_, i) =>
            settle(
              changeOwnPassword(
                { ...deps, directory },
                { username: 'alice', currentPassword: i === right ? RIGHT : wrong(i), newPassword: NEW(i) },
              ),
            ),
          );
          const outcomes = await s.waitFor(Promise.all(runs));

          // Every refusal is the one 401: nothing tells the right password from a wrong one.
          for (const outcome of outcomes) {
            if (outcome.ok) continue;
            expect(outcome.error).toBeInstanceOf(NotAuthenticatedError);
            expect((outcome.error as Error).message).toBe(NOT_AUTHENTICATED_MESSAGE);
          }
          const successes = outcomes.filter((o) => o.ok).length;
          expect(successes).toBeLessThanOrEqual(right === -1 ? 0 : 1);
          expect(hasher.real).toBeLessThanOrEqual(limit);
          const user = await deps.directory.getUser('u1');
          if (successes === 0) {
            expect(await fastHasher.verify(user?.credential?.hash ?? '', RIGHT)).toBe(true);
            if (burst >= limit && right === -1) expect(user?.lockedUntil).toBeDefined();
          } else {
            expect(await fastHasher.verify(user?.credential?.hash ?? '', NEW(right))).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

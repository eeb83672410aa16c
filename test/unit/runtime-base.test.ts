import { describe, expect, it } from 'vitest';
import { buildRuntime, noHasher } from '#adapters/runtime-base.ts';
import { UnavailableError } from '#core/errors.ts';

describe('buildRuntime', () => {
  it('wires the hasher it is given: a function built with noHasher fails loudly if it ever hashes', async () => {
    const runtime = buildRuntime('manage-ddm-admin', noHasher, { clients: { region: 'us-east-1' } });
    expect(runtime.deps.hasher).toBe(noHasher);
    await expect(runtime.deps.hasher.hash('Correct-Horse-1')).rejects.toBeInstanceOf(UnavailableError);
    await expect(runtime.deps.hasher.verify('$argon2id$', 'Correct-Horse-1')).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it('never repeats the password in the refusal', async () => {
    const error = await noHasher.hash('Correct-Horse-1').catch((e: unknown) => e);
    expect(String((error as Error).message)).not.toContain('Correct-Horse-1');
  });
});

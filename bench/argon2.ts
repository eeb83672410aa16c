/** argon2id hash and verify latency with rekey's parameters (19 MiB, t=2, p=1). */
import { argon2idHasher } from '../functions/core/hashing.ts';
import { median } from './stats.ts';

export async function measureArgon2(iterations: number): Promise<{ hashMs: number; verifyMs: number }> {
  const password = 'Bench-Password-1234';
  const phc = await argon2idHasher.hash(password);
  const hash: number[] = [];
  const verify: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let t = performance.now();
    await argon2idHasher.hash(password);
    hash.push(performance.now() - t);
    t = performance.now();
    await argon2idHasher.verify(phc, password);
    verify.push(performance.now() - t);
  }
  return { hashMs: median(hash), verifyMs: median(verify) };
}

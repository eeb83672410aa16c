/** argon2id hash and verify latency with rekey's parameters (19 MiB, t=2, p=1). */
import { argon2idHasher } from '../functions/adapters/argon2-hasher.ts';
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

/**
 * argon2id hashes per second with `inFlight` hashes running at once for about `ms`: what this
 * machine's cores can do with argon2id and nothing else. Run it in a process of its own whose
 * UV_THREADPOOL_SIZE is the server's, so the pool is the same size.
 */
export async function measureArgon2Throughput(inFlight: number, ms: number): Promise<number> {
  const password = 'Bench-Password-1234';
  await argon2idHasher.hash(password);
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < ms) {
      await argon2idHasher.hash(password);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (done * 1000) / (performance.now() - start);
}

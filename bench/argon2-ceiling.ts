/**
 * Child process of `npm run load`: prints how many argon2id hashes a second this machine does
 * with `argv[2]` in flight and nothing else running (the ceiling of any hashing route).
 */
import { measureArgon2Throughput } from './argon2.ts';

const inFlight = Number(process.argv[2] ?? 4);
process.stdout.write(String(await measureArgon2Throughput(inFlight, 5_000)));

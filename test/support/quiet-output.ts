/**
 * A passing test file prints nothing but the test report (issue 16): what the code under test
 * writes to stdout and stderr — the functions' JSON log lines, the local tools' notices — is
 * held back, and written out only when a test of the file fails, so a failure still shows
 * everything that led to it. vitest already does this for `console.*` (`silent: 'passed-only'`);
 * the functions' logger writes to the streams directly, which vitest leaves alone.
 *
 * Loaded before plaintext-setup.ts, which wraps whatever `write` it finds: everything held back
 * here is still searched for passwords. Tests that capture output themselves (capture-output.ts)
 * replace `write` for a while and put this one back.
 */
import { afterEach } from 'vitest';

type Write = typeof process.stdout.write;
type Held = { stream: NodeJS.WriteStream; chunk: string | Uint8Array };

const streams = [process.stdout, process.stderr] as const;
const real = new Map<NodeJS.WriteStream, Write>(streams.map((s) => [s, s.write.bind(s) as Write]));
let held: Held[] = [];
let failed = false;

function holdingWrite(stream: NodeJS.WriteStream): Write {
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (failed) return (real.get(stream) as Write)(chunk, ...(rest as []));
    held.push({ stream, chunk });
    // Honour the callback a caller may pass (write(chunk[, encoding][, cb])).
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) queueMicrotask(callback);
    return true;
  }) as Write;
}

function release(): void {
  for (const { stream, chunk } of held) (real.get(stream) as Write)(chunk);
  held = [];
}

if (process.env.REKEY_TEST_OUTPUT !== 'all') {
  for (const stream of streams) stream.write = holdingWrite(stream);
  afterEach((context) => {
    // A test that failed: out with everything held (the hooks' output before it included), and
    // everything after it in this file is written at once. One that passed: dropped.
    if (context.task.result?.state === 'fail') {
      failed = true;
      release();
    }
    held = [];
  });
}

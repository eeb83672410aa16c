/**
 * Everything a run writes: stdout, stderr and the console. vitest routes `console.*` around
 * the process streams, so a capture of the streams alone would miss a `console.log` leak.
 * Tests that prove no password is logged search what this returns.
 */
import { vi } from 'vitest';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/** Runs `work` with all output captured (and silenced); returns its value and the output. */
export async function capturingLogs<T>(work: () => Promise<T>): Promise<{ result: T; logs: string }> {
  const chunks: string[] = [];
  const capture = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  const spies = [
    ...[process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation(capture),
    ),
    ...CONSOLE_METHODS.map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        chunks.push(
          `${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`,
        );
      }),
    ),
  ];
  try {
    return { result: await work(), logs: chunks.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

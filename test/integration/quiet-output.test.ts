/**
 * Issue 16, item 6: a passing `npm test` prints the test report and nothing else. A real
 * vitest run of a test file whose code logs (every request writes JSON log lines) is spawned
 * with the project's config: its output holds the report and no log line. The control, with
 * REKEY_TEST_OUTPUT=all, shows the same run's log lines, so the check can see them.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const PROBE = 'test/integration/create-or-reset-ui-password.smoke.test.ts';

function vitest(env: Record<string, string | undefined>): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', PROBE], {
    env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('a passing test run', () => {
  it('prints the report alone: no log line of the code under test', () => {
    const { status, output } = vitest({ REKEY_TEST_OUTPUT: undefined });
    expect(status).toBe(0);
    expect(output).toMatch(/Tests\s+1 passed/);
    expect(output).not.toMatch(/"level":"(INFO|WARN|ERROR)"/);
  }, 120_000);

  it('shows those log lines when asked (REKEY_TEST_OUTPUT=all), so the check above can see them', () => {
    const { status, output } = vitest({ REKEY_TEST_OUTPUT: 'all' });
    expect(status).toBe(0);
    expect(output).toMatch(/"level":"INFO"/);
  }, 120_000);
});

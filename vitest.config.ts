import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // local-env: tests run as npm start does, with its settings (infra/local/local-settings.ts).
    // quiet-output: a passing file prints nothing but the report (REKEY_TEST_OUTPUT=all: everything).
    // plaintext-setup: every file's output is searched for every password its code handled
    // (test/support/plaintext-setup.ts; the control is in test/integration/no-plaintext.test.ts).
    // openapi-setup: every response a local gateway sends is checked against docs/openapi.json
    // (test/support/openapi-setup.ts; the control is in test/integration/openapi-contract.test.ts).
    setupFiles: [
      'infra/local/node-warnings.ts',
      'infra/local/local-env.ts',
      'test/support/quiet-output.ts',
      'test/support/plaintext-setup.ts',
      'test/support/openapi-setup.ts',
    ],
    // Logs of passing tests are noise; a failing test shows its own.
    silent: 'passed-only',
    // Native argon2 and real sockets: separate processes, two at a time on CI's two cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Lambda and the local tools never see the Node 20 notice; neither do test logs.
    env: { POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1' },
  },
});

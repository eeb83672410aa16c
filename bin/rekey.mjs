#!/usr/bin/env node
// The operator CLI. It runs the TypeScript sources through tsx, like `npm start`.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`rekey audit | head`) closes the pipe: that ends the output, as it
// does for any Unix tool, instead of an unhandled EPIPE and a stack trace.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
// What the CLI writes in the data folder (keys) is owner-only.
(await import('../infra/local/data-folder.ts')).restrictUmask();
await import('../infra/local/node-warnings.ts');
const { main } = await import('../cli/rekey.ts');
process.exitCode = await main(process.argv.slice(2));

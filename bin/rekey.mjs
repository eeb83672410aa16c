#!/usr/bin/env node
// The operator CLI. It runs the TypeScript sources through tsx, like `npm start`.
import { register } from 'tsx/esm/api';

register();
// What the CLI writes in the data folder (keys) is owner-only.
(await import('../infra/local/data-folder.ts')).restrictUmask();
await import('../infra/local/node-warnings.ts');
const { main } = await import('../cli/rekey.ts');
process.exitCode = await main(process.argv.slice(2));

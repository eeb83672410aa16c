/**
 * What the function bundles get for `node:stream/promises` (an esbuild alias in
 * infra/constructs/lambda-bundling.ts). Its one importer, @middy/core, calls `pipeline` only
 * for a streamed response, which rekey never enables; the real module is taken, on that call,
 * from Node's built-ins, and no cold start pays for its facade.
 */
import type * as streamPromises from 'node:stream/promises';

export const pipeline: typeof streamPromises.pipeline = ((...args: unknown[]) =>
  (process.getBuiltinModule('node:stream/promises').pipeline as (...a: unknown[]) => unknown)(
    ...args,
  )) as typeof streamPromises.pipeline;

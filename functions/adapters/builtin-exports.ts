/**
 * What the function bundles get for `node:console` and `node:timers` (esbuild aliases in
 * infra/constructs/lambda-bundling.ts): the built-ins' own exports, taken with
 * `process.getBuiltinModule`. Importing a built-in from an ES module builds its module facade
 * at every cold start; their importers, Powertools Metrics (`Console`) and @middy/core
 * (`setTimeout`), take one name each (docs/decisions.md, "Cold start, ninth pass"). A name an
 * importer takes that is not here fails the bundle, not a request.
 */
export const { Console } = process.getBuiltinModule('node:console');
export const { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate } =
  process.getBuiltinModule('node:timers');

/**
 * What the function bundles get for `node:stream/web` (an esbuild alias in
 * infra/constructs/lambda-bundling.ts). Its one importer, @middy/core, uses `ReadableStream`
 * for a single `instanceof` check on the streamed-response path (`streamifyResponse`), which
 * rekey never enables; the real module costs every cold start eight internal modules
 * (docs/decisions.md). This stand-in answers that check with the real class, loaded only when
 * the check runs.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: it must be a class: middy's code does `x instanceof ReadableStream`.
export class ReadableStream {
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof globalThis.ReadableStream;
  }
}

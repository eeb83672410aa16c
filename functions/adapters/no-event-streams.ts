/**
 * What the function bundles get for `@smithy/core/event-streams` (an esbuild alias in
 * infra/constructs/lambda-bundling.ts). The SDK's HTTP protocols import it with a dynamic
 * `import()` only to serialize an event-stream operation, which no rekey function calls
 * (DynamoDB, Secrets Manager, SES, SNS and EventBridge operations without streams). That one
 * dynamic import made esbuild wrap the module and everything it reaches in @smithy/core in lazy
 * initialisers, which every cold start paid for (docs/decisions.md, "Cold start").
 */
const REFUSAL = 'rekey bundles no event-stream support: no rekey function calls an event-stream operation.';

export class EventStreamSerde {
  constructor() {
    throw new Error(REFUSAL);
  }
}

export function eventStreamSerdeProvider(): never {
  throw new Error(REFUSAL);
}

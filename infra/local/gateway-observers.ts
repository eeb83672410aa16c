/**
 * Who hears what the local gateways of this process answer: the test suite's OpenAPI response
 * check (test/support/openapi-setup.ts). A module of its own, so that observing loads nothing
 * of the gateway (a test file that starts none pays nothing).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RouteDefinition } from '#functions/routes.ts';

/** A response a gateway sent. */
export interface GatewayExchange {
  method: string;
  /** The path template of the route that answered; undefined when none matched. */
  path: string | undefined;
  result: APIGatewayProxyStructuredResultV2;
  /** The route table the gateway serves (tests may start one over a table of their own). */
  routes: readonly Pick<RouteDefinition, 'operation' | 'path'>[];
}

const observers = new Set<(exchange: GatewayExchange) => void>();

/**
 * Calls `observer` with every response any gateway of this process sends, after sending it.
 * Returns the function that stops it. An observer that throws changes nothing that was sent.
 */
export function observeGatewayResponses(observer: (exchange: GatewayExchange) => void): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Tells every observer (the gateway calls it after writing a response). */
export function notifyGatewayObservers(exchange: GatewayExchange): void {
  for (const observer of observers) {
    try {
      observer(exchange);
    } catch {
      // Observing never changes what was served.
    }
  }
}

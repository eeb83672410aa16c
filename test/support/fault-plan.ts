/**
 * A recording, fault-injecting proxy for every port a function drives: the directory, the
 * vault, the notifier, the result publisher, and the DynamoDB client the idempotency layer
 * writes through. While a run is active it records each call as a *step* — the port, the
 * method and which call of that method it is (`vault.create#1`, `directory.getUser#2`) —
 * and makes the steps a test armed fail, either before the call reaches the backend or
 * after it landed (the backend did the work, the caller was told it failed).
 *
 * Steps are named from what a run actually calls, so a test can record a successful run and
 * compare it with its fault matrix: a port call added to the code cannot go unfaulted.
 */
import type { DynamoDb } from '#adapters/dynamodb-api.ts';
import { interceptDynamoDb } from './dynamodb.ts';
import { injectedFault } from './port-faults.ts';

/** The ports a function drives, as steps name them. */
export type PortName = 'directory' | 'vault' | 'notifier' | 'publisher' | 'idempotency';

/** One call of one port method in a run: `<port>.<method>#<n>`, n counting from 1. */
export type Step = `${PortName}.${string}#${number}`;

/** `before`: the call never reaches the backend. `landed`: it does, then reports a failure. */
export type FaultMode = 'before' | 'landed';

export interface ArmedFault {
  step: Step;
  mode: FaultMode;
}

/** The port and method of a step: `vault.create#2` → `vault.create`. */
export function methodOf(step: Step): string {
  return step.slice(0, step.lastIndexOf('#'));
}

/**
 * One plan for every wrapped port of a test: runs are one at a time (start … stop), each
 * counting its steps from one, so a step names the same call in every run of a scenario.
 */
export class FaultPlan {
  private active = false;
  private recorded: Step[] = [];
  private readonly counts = new Map<string, number>();
  private readonly armed = new Map<Step, FaultMode>();
  private readonly firedSteps: Step[] = [];

  /** Starts a run: counts from zero, records, and arms `faults` (each fires once). */
  start(faults: readonly ArmedFault[] = []): void {
    this.active = true;
    this.recorded = [];
    this.counts.clear();
    this.armed.clear();
    this.firedSteps.length = 0;
    for (const fault of faults) this.armed.set(fault.step, fault.mode);
  }

  /** Ends the run; calls pass through unrecorded until the next start. */
  stop(): { calls: Step[]; fired: Step[] } {
    this.active = false;
    this.armed.clear();
    return { calls: [...this.recorded], fired: [...this.firedSteps] };
  }

  /** Wraps a port object: each method call goes through the plan. */
  wrap<T extends object>(port: PortName, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) =>
          this.call(port, property, () => Promise.resolve(value.apply(object, args)), injectedFault);
      },
    });
  }

  /**
   * Wraps the DynamoDB client the idempotency layer writes through (the directory has its
   * own client, so only idempotency records go through here). Steps are named after the
   * operation: `idempotency.PutItem#1` is the claim, `#2` the stored result. The injected
   * error is a plain one, as a call throws on a network failure.
   */
  wrapDynamoDb(client: DynamoDb): DynamoDb {
    const wrapped = { ...client };
    interceptDynamoDb(wrapped, (operation, _input, next) =>
      this.call('idempotency', operation, next, sdkFault),
    );
    return wrapped;
  }

  private async call<R>(
    port: PortName,
    method: string,
    run: () => Promise<R>,
    fault: (method: string) => Error,
  ): Promise<R> {
    if (!this.active) return run();
    const key = `${port}.${method}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    const step: Step = `${port}.${method}#${n}`;
    this.recorded.push(step);
    const mode = this.armed.get(step);
    if (mode === undefined) return run();
    this.armed.delete(step);
    this.firedSteps.push(step);
    if (mode === 'landed') await run();
    throw fault(key);
  }
}

/** What the SDK throws when a request fails on the way: a plain error, no service code. */
function sdkFault(method: string): Error {
  const error = new Error(`injected fault in ${method}`);
  error.name = 'InjectedFault';
  return error;
}

/**
 * Fault injection around a real port (the local backend's directory or vault) for tests that
 * go through HTTP: the wrapper forwards every call, except those a test has armed to fail.
 * Used with `startTestApi({ customizeRuntime })`.
 */
import { UnavailableError } from '#core/errors.ts';

/** How one armed call fails. `landed`: the real call runs first, then the error is thrown. */
export interface PortFault {
  landed?: boolean;
  error?: Error;
  /** Fail only the n-th call from now (1 = the next one); earlier calls pass through. */
  onCall?: number;
}

export interface FaultyPort<T> {
  port: T;
  /** Arms the next call (or the `onCall`-th) of `method` to fail. */
  fail(method: keyof T & string, fault?: PortFault): void;
  /** Disarms every fault. */
  clear(): void;
}

/**
 * The error an armed call throws by default: what the SDK adapters throw when AWS fails
 * (they wrap every SDK error in an UnavailableError).
 */
export function injectedFault(method: string): Error {
  const cause = new Error(`injected fault in ${method}`);
  cause.name = 'InjectedFault';
  return new UnavailableError('The backing service is unavailable; retry later.', { cause });
}

/** Wraps `target` so that tests can make its methods fail on demand. */
export function faultyPort<T extends object>(target: T): FaultyPort<T> {
  const armed = new Map<string, { fault: PortFault; remaining: number }>();
  const port = new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const entry = armed.get(property);
        if (entry && --entry.remaining <= 0) {
          armed.delete(property);
          if (entry.fault.landed) await value.apply(object, args);
          throw entry.fault.error ?? injectedFault(property);
        }
        return value.apply(object, args);
      };
    },
  });
  return {
    port,
    fail: (method, fault = {}) => armed.set(method, { fault, remaining: fault.onCall ?? 1 }),
    clear: () => armed.clear(),
  };
}

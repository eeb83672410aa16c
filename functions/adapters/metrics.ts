/**
 * rekey's metrics, on Powertools Metrics (CloudWatch embedded metric format written to
 * stdout, which Lambda's log stream turns into metrics: no API call, no SDK client).
 *
 * Dimensions (the cardinality decision, docs/decisions.md "Issue 14"): every metric carries
 * `service` (the function) and, where it has one, `operation` (a route's or a ticket's, at
 * most eight); refusals add the dialect's error `code` and failures the error's `cause` kind
 * (bounded sets: the dialects' code tables, rekey's error kinds); notifications add `channel`
 * (email, phone). The realm is a dimension of `LockedOut` only: realms are unbounded (each
 * is one more billed custom metric per metric name), and lock-outs are the one signal that
 * must be alarmed per realm (a guessing campaign). Everything else per realm is in the audit
 * records, which hold the realm and can be queried in the audit log group.
 *
 * Each invocation's metrics are flushed as one EMF document (or one per dimension set) by
 * `flush`, which the pipelines call once per invocation, success or not.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Directory, Notifier } from '#core/ports.ts';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '#functions/contracts.ts';
import type { Logger } from './logger.ts';

export type Dimensions = Readonly<Record<string, string>>;

/** What the functions count, and the one flush per invocation. */
export interface RekeyMetrics {
  /** Counts `value` of `name` with these dimensions (beside `service`). */
  count(name: MetricName, dimensions?: Dimensions, value?: number): void;
  /** Writes what was counted (EMF on stdout) and starts over. */
  flush(): void;
}

/** Powertools Metrics for one function; `service` is its default dimension. */
export function createMetrics(service: string, logger?: Logger): RekeyMetrics {
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: service,
    // Powertools' own warnings (an empty flush) go to rekey's logger at debug, not stdout.
    ...(logger ? { logger: quiet(logger) } : {}),
  });
  // One EMF document holds one dimension set: counts are grouped by theirs until the flush.
  const pending = new Map<string, { dimensions: Dimensions; values: Map<MetricName, number> }>();
  return {
    count(name, dimensions = {}, value = 1) {
      const key = JSON.stringify(Object.entries(dimensions).sort());
      const group = pending.get(key) ?? { dimensions, values: new Map<MetricName, number>() };
      pending.set(key, group);
      group.values.set(name, (group.values.get(name) ?? 0) + value);
    },
    flush() {
      for (const { dimensions, values } of pending.values()) {
        for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
        for (const [metric, count] of values) metrics.addMetric(metric, MetricUnit.Count, count);
        // One document per dimension set; the added dimensions are cleared with it.
        metrics.publishStoredMetrics();
      }
      pending.clear();
    },
  };
}

function quiet(logger: Logger) {
  const debug = (...args: unknown[]) => logger.debug(String(args[0] ?? ''));
  return { debug, info: debug, warn: debug, error: debug };
}

/** Counts nothing: functions and tests that do not measure. */
export const noMetrics: RekeyMetrics = { count: () => {}, flush: () => {} };

/**
 * The directory, counting a lock-out (`LockedOut`, by realm) each time a failure count lands
 * the lock: the moment the lock is set, once per lock whatever the concurrency (the one
 * `lock` update that lands, or a `restart` that locks at once).
 */
export function countingLockouts(directory: Directory, metrics: RekeyMetrics): Directory {
  return new Proxy(directory, {
    get(target, property, receiver) {
      if (property !== 'countFailure') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      const countFailure: Directory['countFailure'] = async (userId, hash, step) => {
        const count = await target.countFailure(userId, hash, step);
        const locks = step.kind === 'lock' || (step.kind === 'restart' && step.lockUntil !== undefined);
        if (count.landed && locks && count.landed.lockedUntil !== undefined) {
          metrics.count(METRIC.lockedOut, { realm: count.landed.realmId });
        }
        return count;
      };
      return countFailure;
    },
  });
}

/** The notifier, counting each delivery and each failure by channel. */
export function countingNotifications(notifier: Notifier, metrics: RekeyMetrics): Notifier {
  return {
    async send(notification) {
      try {
        await notifier.send(notification);
      } catch (error) {
        metrics.count(METRIC.notificationFailed, { channel: notification.channel });
        throw error;
      }
      metrics.count(METRIC.notificationSent, { channel: notification.channel });
    },
  };
}

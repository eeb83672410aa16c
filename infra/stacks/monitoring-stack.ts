/**
 * What an operator watches (issue 14): one CloudWatch dashboard — password operations per
 * minute, refusals, lock-outs, p99 duration per function, the dead-letter queue's depth and
 * the sweeper's results — and the alarms: a spike of lock-outs in one realm (a guessing
 * campaign), notifier failures, the sweeper not completing, tickets failing. Built from the
 * metric names of functions/contracts.ts, which the functions emit as EMF
 * (functions/adapters/metrics.ts).
 *
 * Alarms on metrics whose dimensions vary (a realm, a channel, an operation) use CloudWatch
 * Metrics Insights queries, which aggregate over them; the dashboard's graphs use SEARCH
 * expressions, which draw one line per dimension value.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SearchExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../../functions/contracts.ts';
import type { RekeyFunction } from '../constructs/rekey-function.ts';

export interface MonitoringStackProps extends StackProps {
  /** Every function, by name, for its p99 duration. */
  functions: ReadonlyMap<string, RekeyFunction>;
  /** The ticket queue's dead-letter queue. */
  deadLetterQueue: IQueue;
  /** Lock-outs in one realm within 5 minutes that raise the alarm. Default 10. */
  lockoutSpike?: number;
  /** Failed tickets within 15 minutes that raise the alarm. Default 5. */
  ticketFailures?: number;
  /** How long without a complete sweep raises the alarm. Default 1 hour (four runs). */
  sweepOverdueAfter?: Duration;
}

/** The sweeper's metrics carry only its service dimension (functions/sweeper/handler.ts). */
const SWEEPER_SERVICE = 'sweeper';

/** A SEARCH of one rekey metric over every value of its dimensions, summed per period. */
function search(metric: string, dimensions: readonly string[], period = Duration.minutes(1)): IMetric {
  const schema = [METRICS_NAMESPACE, ...dimensions].join(',');
  return new SearchExpression({
    expression: `SEARCH('{${schema}} MetricName="${metric}"', 'Sum', ${period.toSeconds()})`,
    label: '',
    period,
  });
}

/** A Metrics Insights query: one series, the sum of `metric` over `dimensions` (grouped, the top one). */
export function insights(
  metric: string,
  dimensions: readonly string[],
  options: { groupBy?: string; period: Duration; label: string },
): MathExpression {
  const schema = [`"${METRICS_NAMESPACE}"`, ...dimensions].join(', ');
  const group = options.groupBy ? ` GROUP BY ${options.groupBy} ORDER BY SUM() DESC LIMIT 1` : '';
  return new MathExpression({
    expression: `SELECT SUM(${metric}) FROM SCHEMA(${schema})${group}`,
    period: options.period,
    label: options.label,
  });
}

export class MonitoringStack extends Stack {
  readonly dashboard: Dashboard;
  readonly alarms: {
    lockoutSpike: Alarm;
    notifierFailures: Alarm;
    sweeperNotCompleting: Alarm;
    ticketsFailing: Alarm;
  };

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);

    const sweeper = (metricName: string, period: Duration) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SWEEPER_SERVICE },
        statistic: 'Sum',
        period,
      });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: 'rekey',
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Password operations per minute',
        width: 12,
        left: [METRIC.passwordIssued, METRIC.passwordSet, METRIC.passwordChanged].map((name) =>
          search(name, ['operation', 'service']),
        ),
      }),
      new GraphWidget({
        title: 'Refusals per minute, by operation and code',
        width: 12,
        left: [search(METRIC.refused, ['code', 'operation', 'service'])],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Lock-outs per minute, by realm',
        width: 12,
        left: [search(METRIC.lockedOut, ['realm', 'service'])],
      }),
      new GraphWidget({
        title: 'Failures and notifications per minute',
        width: 12,
        left: [
          search(METRIC.failed, ['cause', 'operation', 'service']),
          search(METRIC.notificationFailed, ['channel', 'service']),
          search(METRIC.auditNotPublished, ['service']),
        ],
        right: [search(METRIC.notificationSent, ['channel', 'service'])],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'p99 duration per function (ms)',
        width: 12,
        left: [...props.functions].map(([name, fn]) =>
          fn.function.metricDuration({ statistic: 'p99', label: name, period: Duration.minutes(1) }),
        ),
      }),
      new GraphWidget({
        title: 'Tickets: completed, failed; dead-letter queue depth',
        width: 12,
        left: [
          search(METRIC.ticketCompleted, ['operation', 'service']),
          search(METRIC.ticketFailed, ['operation', 'service']),
        ],
        right: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'dead-letter queue depth',
            period: Duration.minutes(1),
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sweeper: secrets swept, orphans deleted, complete runs',
        width: 24,
        left: [
          sweeper(METRIC.secretsSwept, Duration.minutes(15)),
          sweeper(METRIC.orphansDeleted, Duration.minutes(15)),
          sweeper(METRIC.sweepCompleted, Duration.minutes(15)),
        ],
      }),
    );

    const lockoutSpike = new Alarm(this, 'LockoutSpikeAlarm', {
      alarmDescription:
        'rekey: many users locked out in one realm within 5 minutes: a password-guessing campaign? The audit log names the realm and the users.',
      metric: insights(METRIC.lockedOut, ['realm', 'service'], {
        groupBy: 'realm',
        period: Duration.minutes(5),
        label: 'lock-outs in the realm with the most',
      }),
      threshold: props.lockoutSpike ?? 10,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const notifierFailures = new Alarm(this, 'NotifierFailuresAlarm', {
      alarmDescription:
        'rekey: notifications (SES e-mail, SNS SMS) failed: users are not told their new or changed password.',
      metric: insights(METRIC.notificationFailed, ['channel', 'service'], {
        period: Duration.minutes(5),
        label: 'notifications failed',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const overdue = props.sweepOverdueAfter ?? Duration.hours(1);
    const sweeperNotCompleting = new Alarm(this, 'SweeperNotCompletingAlarm', {
      alarmDescription: `rekey: no sweep reached the end of the temporary-secret index in ${overdue.toHumanString()}: expired passwords stay in Secrets Manager.`,
      metric: sweeper(METRIC.sweepCompleted, overdue),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data is exactly the failure: the sweeper did not run, or never completed.
      treatMissingData: TreatMissingData.BREACHING,
    });
    const ticketsFailing = new Alarm(this, 'TicketsFailingAlarm', {
      alarmDescription:
        'rekey: tickets answered PasswordResetFailed within 15 minutes (refusals and undelivered passwords); the audit log says why.',
      metric: insights(METRIC.ticketFailed, ['operation', 'service'], {
        period: Duration.minutes(15),
        label: 'tickets failed',
      }),
      threshold: props.ticketFailures ?? 5,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = { lockoutSpike, notifierFailures, sweeperNotCompleting, ticketsFailing };
  }
}

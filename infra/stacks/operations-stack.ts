/**
 * The background half of rekey: ticketing systems' events on the `rekey` bus, drained by a
 * worker through a queue with a dead-letter queue, and the sweeper that deletes every
 * temporary secret that outlived its password.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy, LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, type IRole, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import {
  FilterPattern,
  type ILogGroup,
  LogGroup,
  ResourcePolicy,
  RetentionDays,
  SubscriptionFilter,
} from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  AUDIT_LINE_FILTER,
  AUDIT_LOG_GROUP,
  AUDIT_RETENTION_DAYS,
  CONNECTOR_SOURCE_PREFIX,
  DETAIL_TYPES,
  ENV,
  EVENT_BUS_NAME,
  RESULT_SOURCE,
  SECRET_PREFIXES,
  TICKET_SCOPES,
} from '../../functions/contracts.ts';
import { TICKET_MAX_RECEIVE_COUNT } from '../../functions/core/tickets.ts';
import { RekeyFunction } from '../constructs/rekey-function.ts';
import { type ConnectorReplyProps, TicketReplies } from '../constructs/ticket-replies.ts';
import { WRITABLE } from '../constructs/writable-partitions.ts';
import { pascal } from './api-stack.ts';

export interface OperationsStackProps extends StackProps {
  table: ITable;
  secretsKey: IKey;
  emailIdentity: string;
  emailSender: string;
  /** Worker concurrency cap. Default 5: with a batch of 10 and ~3 vault calls per reset, bursts stay far under Secrets Manager's write quota (50/s). */
  workerConcurrency?: number;
  /** How often the sweeper runs. Default 15 minutes. */
  sweepEvery?: Duration;
  /** Ticketing connectors whose tickets get rekey's note (docs/ticketing.md). Default none. */
  connectors?: readonly ConnectorReplyProps[];
  /**
   * The end user's page (`https://…/password`) the ticket worker's notifications and result
   * events link to. Default: none (no link); buildRekey passes the API's own page.
   */
  passwordPageUrl?: string;
  /**
   * Log groups of functions in other stacks that write audit lines (the API's operation
   * functions), by a name for the subscription's id. The ticket worker's is added here.
   */
  auditedLogGroups?: ReadonlyMap<string, ILogGroup>;
  /**
   * Roles of functions in other stacks that put events in rekey's names (the ticket intake:
   * connector requests, and results for the tickets it refuses). Default none.
   */
  eventPutters?: readonly IRole[];
}

const WORKER_TIMEOUT = Duration.seconds(60);

export class OperationsStack extends Stack {
  readonly bus: EventBus;
  /** Every `PasswordAudit` event, kept 13 months (issue 14). */
  readonly auditLog: LogGroup;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: RekeyFunction;
  readonly sweeper: RekeyFunction;
  readonly replies: TicketReplies;
  /** Puts the functions' audit lines on the bus (functions/audit-forwarder). */
  readonly auditForwarder: RekeyFunction;
  readonly auditForwarderFailures: Queue;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props);
    this.bus = new EventBus(this, 'Bus', { eventBusName: EVENT_BUS_NAME });

    this.deadLetterQueue = new Queue(this, 'TicketsDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Tickets', {
      // Six times the worker's timeout, as Lambda's SQS guidance asks, so a slow batch is
      // not handed to a second worker while the first still runs.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: TICKET_MAX_RECEIVE_COUNT },
    });
    const requests = new Rule(this, DETAIL_TYPES.requested, {
      eventBus: this.bus,
      description: 'rekey: ticketing requests to the worker queue',
      eventPattern: { detailType: [DETAIL_TYPES.requested] },
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });
    // The worker trusts a message's source as the bus let it through (the bus policy keeps
    // rekey's names to rekey's functions). A principal allowed sqs:SendMessage on `*` could
    // otherwise put an event the bus refuses straight on the queue, in a connector's name. So
    // the request rule alone sends, and a dead-lettered ticket runs again only through the
    // bus (`rekey event send` with the message's body), never by an SQS redrive: anyone may
    // be able to send to the dead-letter queue, and a redrive would make its messages trusted.
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheRequestRuleSends',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnNotEquals: { 'aws:SourceArn': requests.ruleArn } },
      }),
    );
    new Alarm(this, 'TicketsDeadLettersAlarm', {
      alarmDescription: 'rekey: ticketing messages failed every retry and wait in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // The audit trail (issue 14): every PasswordAudit event into a log group kept 13 months
    // (and kept when the stack is deleted), and into the bus's archive for as long, so a
    // period can be replayed to a SIEM's own rule.
    // Audit events the log group could not take wait here (14 days) rather than vanish.
    const auditDeadLetters = new Queue(this, 'AuditDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const auditPattern = { source: [RESULT_SOURCE], detailType: [DETAIL_TYPES.audit] };
    this.auditLog = new LogGroup(this, 'AuditLog', {
      logGroupName: AUDIT_LOG_GROUP,
      retention: RetentionDays.THIRTEEN_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The log group's resource policy as a native AWS::Logs::ResourcePolicy: CDK's
    // CloudWatchLogGroup target writes it through a custom-resource Lambda (with the managed
    // basic execution role) that no rekey function needs.
    new ResourcePolicy(this, 'AuditLogPolicy', {
      policyStatements: [
        new PolicyStatement({
          principals: [
            new ServicePrincipal('events.amazonaws.com'),
            new ServicePrincipal('delivery.logs.amazonaws.com'),
          ],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.auditLog.logGroupArn],
        }),
      ],
    });
    const auditLogArn = this.formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.auditLog.logGroupName,
    });
    new Rule(this, DETAIL_TYPES.audit, {
      eventBus: this.bus,
      description: 'rekey: audit records of password operations to the audit log group',
      eventPattern: auditPattern,
      targets: [
        {
          bind: (rule) => {
            addToDeadLetterQueueResourcePolicy(rule, auditDeadLetters);
            return { id: 'AuditLog', arn: auditLogArn, deadLetterConfig: { arn: auditDeadLetters.queueArn } };
          },
        },
      ],
    });
    this.bus.archive('AuditArchive', {
      description: 'rekey: audit records of password operations',
      eventPattern: auditPattern,
      retention: Duration.days(AUDIT_RETENTION_DAYS),
    });

    // The notes back on the tickets: per connector, a connection, an API destination and rules.
    this.replies = new TicketReplies(this, 'TicketReplies', {
      // CDK declares IEventBus's optional members without `| undefined` (exactOptionalPropertyTypes).
      bus: this.bus as IEventBus,
      connectors: props.connectors ?? [],
    });

    this.worker = new RekeyFunction(this, 'TicketWorker', {
      entry: 'functions/ticket-worker/handler.ts',
      description: 'rekey: runs PasswordResetRequested events and puts the result events back',
      timeout: WORKER_TIMEOUT,
      reservedConcurrentExecutions: props.workerConcurrency ?? 5,
      environment: {
        [ENV.eventBusName]: this.bus.eventBusName,
        // The runtime reads both prefixes; the worker is granted only the temporary one.
        [ENV.databaseSecretPrefix]: SECRET_PREFIXES.database,
        ...(props.passwordPageUrl ? { [ENV.passwordPageUrl]: props.passwordPageUrl } : {}),
      },
    })
      // Idempotency records per ticket (and per reuse of a ticket's id): claimed and completed
      // with PutItem, read back with GetItem, dropped on failure with DeleteItem (as are
      // replaced secrets' index entries). The resets write user records and the secrets
      // index, as their HTTP functions do.
      .bindTable(
        props.table,
        ['GetItem', 'PutItem', 'DeleteItem'],
        [
          WRITABLE.idempotency(TICKET_SCOPES.ticket),
          WRITABLE.idempotency(TICKET_SCOPES.reuse),
          WRITABLE.users,
          WRITABLE.trackedSecrets,
        ],
      )
      .bindSecrets({
        prefix: 'temporary',
        // No GetSecretValue: a ticket's notification sends the password the reset generated,
        // held in memory; the worker never reads a secret back.
        actions: ['CreateSecret', 'TagResource', 'DeleteSecret'],
        key: props.secretsKey,
      });
    this.bus.grantPutEventsTo(this.worker.function);
    this.worker.allowEmail({ identity: props.emailIdentity, sender: props.emailSender });
    // SMS to phone numbers only (never a topic or a platform endpoint).
    this.worker.allowSms();
    Validations.of(this.worker).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'Driven by SQS: a failed message is redelivered and lands in the queue dead-letter queue.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event sources take no on-failure destination; the queue redrive policy is the destination.',
      },
    );
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );

    const sweeperFailures = new Queue(this, 'SweeperFailures', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.sweeper = new RekeyFunction(this, 'Sweeper', {
      entry: 'functions/sweeper/handler.ts',
      description: 'rekey: deletes expired and orphan temporary secrets',
      timeout: Duration.minutes(5),
      memorySize: 512,
      argon2: false,
      reservedConcurrentExecutions: 1,
      // The next run retries anything this one missed; failures are kept for inspection.
      asyncFailures: { deadLetterQueue: sweeperFailures, retryAttempts: 0 },
    })
      // Detaches an expired credential from its user (PutItem) and drops index entries (DeleteItem).
      .bindTable(
        props.table,
        ['GetItem', 'PutItem', 'Query', 'DeleteItem'],
        [WRITABLE.users, WRITABLE.trackedSecrets],
      )
      .bindSecrets({
        prefix: 'temporary',
        actions: ['DeleteSecret'],
        key: props.secretsKey,
      })
      // Only the DDM administrator secrets a failed creation left behind (the index names them).
      .bindSecrets({
        prefix: 'database',
        actions: ['DeleteSecret'],
        key: props.secretsKey,
      });
    Validations.of(this.sweeper).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        'Failed scheduled events go to the function dead-letter queue (SweeperFailures); a destination would duplicate it.',
    });
    new Rule(this, 'SweepSchedule', {
      description: 'rekey: runs the temporary-secret sweeper',
      schedule: Schedule.rate(props.sweepEvery ?? Duration.minutes(15)),
      targets: [
        new LambdaFunction(this.sweeper.function, { retryAttempts: 2, deadLetterQueue: sweeperFailures }),
      ],
    });
    // The audit forwarder (docs/decisions.md, "Audit records through the functions' logs"):
    // each auditing function writes one `{"rekeyAudit": …}` line per record; a subscription on
    // its log group hands those lines here, and this function puts them on the bus, off the
    // request path. Lambda retries a failed delivery twice, then keeps it in the queue below.
    this.auditForwarderFailures = new Queue(this, 'AuditForwarderFailures', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.auditForwarder = new RekeyFunction(this, 'AuditForwarder', {
      entry: 'functions/audit-forwarder/handler.ts',
      description: 'rekey: puts the audit lines of the functions on the rekey bus',
      timeout: Duration.seconds(30),
      argon2: false,
      environment: { [ENV.eventBusName]: this.bus.eventBusName },
      asyncFailures: { deadLetterQueue: this.auditForwarderFailures, retryAttempts: 2 },
    });
    this.bus.grantPutEventsTo(this.auditForwarder.function);
    new Alarm(this, 'AuditForwarderFailuresAlarm', {
      alarmDescription:
        "rekey: audit lines the forwarder could not put on the bus after every retry (they are still in the functions' logs)",
      metric: this.auditForwarderFailures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    Validations.of(this.auditForwarder).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        'Failed log deliveries go to the function dead-letter queue (AuditForwarderFailures); a destination would duplicate it.',
    });
    const audited = new Map<string, ILogGroup>([
      ...(props.auditedLogGroups ?? []),
      ['ticket-worker', this.worker.logGroup],
    ]);
    for (const [name, logGroup] of audited) {
      new SubscriptionFilter(this, `AuditLines${pascal(name)}`, {
        logGroup,
        destination: new LambdaDestination(this.auditForwarder.function),
        filterPattern: FilterPattern.literal(AUDIT_LINE_FILTER),
      });
    }

    this.denyOwnSourcesToOthers(props.eventPutters ?? []);

    for (const queue of [
      this.deadLetterQueue,
      sweeperFailures,
      auditDeadLetters,
      this.auditForwarderFailures,
    ]) {
      Validations.of(queue).acknowledge(
        {
          id: 'Serverless-SQSRedrivePolicy',
          reason: 'A dead-letter queue: messages rest here for inspection.',
        },
        {
          id: 'AwsSolutions-SQS3',
          reason:
            'A dead-letter queue itself (of the ticket queue, the sweeper, the audit rule or the audit forwarder).',
        },
      );
    }
  }

  /**
   * Events in rekey's own names can only come from rekey's functions. The worker trusts a
   * `rekey.connector.{id}` source to mean "the intake checked this connector's secret", the
   * connectors' reply rules post any `rekey` result on the ticket it names, and the audit log
   * keeps any `rekey` PasswordAudit. A principal that may put events on the bus for tickets of
   * its own (a ticketing integration) could otherwise forge all three; and of rekey's own
   * functions, only the audit forwarder puts audit records. An explicit Deny in the
   * bus's policy wins over any Allow its identity policy has; other sources are not touched.
   */
  private denyOwnSourcesToOthers(intakeRoles: readonly IRole[]): void {
    const onlyFrom = (
      sid: string,
      [key, pattern]: ['events:source' | 'events:detail-type', string],
      roles: readonly IRole[],
    ) =>
      this.bus.addToResourcePolicy(
        new PolicyStatement({
          sid,
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: {
            // Both keys are multi-valued (one value per entry): any entry in these names.
            'ForAnyValue:StringLike': { [key]: [pattern] },
            // No exception at all when no role may (a stack without the intake).
            ...(roles.length > 0
              ? { ArnNotEquals: { 'aws:PrincipalArn': roles.map((role) => role.roleArn) } }
              : {}),
          },
        }),
      );
    const rolesOf = (...fns: RekeyFunction[]) => fns.flatMap((fn) => fn.function.role ?? []);
    onlyFrom(
      'OnlyRekeyPutsRekeyEvents',
      ['events:source', RESULT_SOURCE],
      [...rolesOf(this.worker, this.auditForwarder), ...intakeRoles],
    );
    onlyFrom(
      'OnlyTheIntakePutsConnectorRequests',
      ['events:source', `${CONNECTOR_SOURCE_PREFIX}*`],
      intakeRoles,
    );
    // Audit records leave the functions as log lines; only the forwarder puts them on the bus.
    onlyFrom(
      'OnlyTheForwarderPutsAuditRecords',
      ['events:detail-type', DETAIL_TYPES.audit],
      rolesOf(this.auditForwarder),
    );
    // A completed reset is the worker's alone; the intake answers only refusals (an unknown
    // user), so a compromised intake cannot post a made-up secret's ARN on a ticket.
    onlyFrom(
      'OnlyTheWorkerPutsCompletedResets',
      ['events:detail-type', DETAIL_TYPES.completed],
      [...rolesOf(this.worker)],
    );
    onlyFrom(
      'OnlyTheWorkerAndTheIntakePutRefusals',
      ['events:detail-type', DETAIL_TYPES.failed],
      [...rolesOf(this.worker), ...intakeRoles],
    );
  }
}

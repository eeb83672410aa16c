/**
 * The background half of rekey: ticketing systems' events on the `rekey` bus, drained by a
 * worker through a queue with a dead-letter queue, and the sweeper that deletes every
 * temporary secret that outlived its password.
 */
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DETAIL_TYPES, ENV, EVENT_BUS_NAME, SECRET_PREFIXES } from '../../functions/contracts.ts';
import { TICKET_MAX_RECEIVE_COUNT } from '../../functions/core/tickets.ts';
import { RekeyFunction } from '../constructs/rekey-function.ts';
import { WRITABLE } from '../constructs/writable-partitions.ts';

export interface OperationsStackProps extends StackProps {
  table: ITable;
  secretsKey: IKey;
  emailIdentity: string;
  emailSender: string;
  /** Worker concurrency cap. Default 5: with a batch of 10 and ~3 vault calls per reset, bursts stay far under Secrets Manager's write quota (50/s). */
  workerConcurrency?: number;
  /** How often the sweeper runs. Default 15 minutes. */
  sweepEvery?: Duration;
  /**
   * The end user's page (`https://…/password`) the ticket worker's notifications and result
   * events link to. Default: none (no link); buildRekey passes the API's own page.
   */
  passwordPageUrl?: string;
}

const WORKER_TIMEOUT = Duration.seconds(60);

export class OperationsStack extends Stack {
  readonly bus: EventBus;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: RekeyFunction;
  readonly sweeper: RekeyFunction;

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
    new Rule(this, DETAIL_TYPES.requested, {
      eventBus: this.bus,
      description: 'rekey: ticketing requests to the worker queue',
      eventPattern: { detailType: [DETAIL_TYPES.requested] },
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });
    new Alarm(this, 'TicketsDeadLettersAlarm', {
      alarmDescription: 'rekey: ticketing messages failed every retry and wait in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.worker = new RekeyFunction(this, 'TicketWorker', {
      entry: 'functions/ticket-worker/handler.ts',
      description: 'rekey: runs PasswordResetRequested events and puts the result events back',
      timeout: WORKER_TIMEOUT,
      reservedConcurrentExecutions: props.workerConcurrency ?? 5,
      environment: {
        [ENV.eventBusName]: this.bus.eventBusName,
        [ENV.emailFrom]: props.emailSender,
        // The runtime reads both prefixes; the worker is granted only the temporary one.
        [ENV.databaseSecretPrefix]: SECRET_PREFIXES.database,
        ...(props.passwordPageUrl ? { [ENV.passwordPageUrl]: props.passwordPageUrl } : {}),
      },
    })
      // Idempotency records per ticket: claimed and completed with PutItem, read back with
      // GetItem, dropped on failure with DeleteItem (as are replaced secrets' index entries).
      // The resets write user records and the secrets index, as their HTTP functions do.
      .bindTable(
        props.table,
        ['GetItem', 'PutItem', 'DeleteItem'],
        [WRITABLE.idempotency('ticket'), WRITABLE.users, WRITABLE.trackedSecrets],
      )
      .bindSecrets({
        prefix: 'temporary',
        // No GetSecretValue: a ticket's notification sends the password the reset generated,
        // held in memory; the worker never reads a secret back.
        actions: ['CreateSecret', 'TagResource', 'DeleteSecret'],
        key: props.secretsKey,
      });
    this.bus.grantPutEventsTo(this.worker.function);
    this.worker.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: props.emailIdentity }),
        ],
      }),
    );
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
    for (const queue of [this.deadLetterQueue, sweeperFailures]) {
      Validations.of(queue).acknowledge(
        {
          id: 'Serverless-SQSRedrivePolicy',
          reason: 'A dead-letter queue: messages rest here for inspection.',
        },
        {
          id: 'AwsSolutions-SQS3',
          reason: 'A dead-letter queue itself (of the ticket queue or the sweeper).',
        },
      );
    }
  }
}

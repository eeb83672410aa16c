/**
 * The answer on the ticket, in AWS: for each declared connector, an EventBridge connection
 * (the system's API credential, which EventBridge keeps in a Secrets Manager secret of its
 * own), an API destination making the system's documented call (functions/ticketing/
 * connectors.ts), and two rules — `PasswordResetCompleted` and `PasswordResetFailed` from
 * rekey with that connector's id — whose input transformer writes the note
 * (functions/ticketing/notes.ts). A note the system does not take is retried, then lands on
 * one dead-letter queue, whose alarm fires.
 */
import { Duration, SecretValue, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import {
  ApiDestination,
  Authorization,
  Connection,
  type IApiDestination,
  type IEventBus,
  type IRule,
  Rule,
  RuleTargetInput,
  type RuleTargetInputProperties,
} from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DETAIL_TYPES, RESULT_SOURCE } from '../../functions/contracts.ts';
import {
  CONNECTOR_ID,
  type ConnectorKind,
  REPLY_ALARM_ID,
  REPLY_MAX_AGE_SECONDS,
  REPLY_RETRY_ATTEMPTS,
  replyBase,
  replyCall,
  replyUrlProblem,
  SERVICENOW_TABLE,
} from '../../functions/ticketing/connectors.ts';
import { NOTE_FIELDS, type NoteKind, noteTemplate } from '../../functions/ticketing/notes.ts';

/**
 * A connector's reply side, declared for a deployed stack (cdk.json context `connectors`, or
 * the app's options). Its intake side — the record and the inbound secret — is made by
 * `REKEY_BACKEND=aws rekey connector create` with the same id (docs/ticketing.md).
 */
export interface ConnectorReplyProps {
  id: string;
  kind: ConnectorKind;
  /** The system's base URL (https). */
  replyUrl: string;
  /** ServiceNow: the table of the records (default incident). */
  table?: string;
  /**
   * The API user, for Basic authentication: Zendesk `agent@example.com/token`, Jira Cloud the
   * account's e-mail, ServiceNow the integration user.
   */
  username: string;
  /** The Secrets Manager secret (name or ARN) holding its API token or password. */
  passwordSecret: string;
  /** The JSON field of that secret holding it, if the secret is JSON. */
  passwordField?: string;
  /**
   * The version of that secret to read (its `VersionId`). CloudFormation resolves a secret
   * reference again only when the reference changes: after renewing the token, name the new
   * version here and deploy, and the connection takes it (docs/ticketing.md, "Renewing a reply
   * credential"). Left out: the version current at the first deployment, never re-read.
   */
  passwordVersionId?: string;
}

export interface TicketRepliesProps {
  bus: IEventBus;
  connectors: readonly ConnectorReplyProps[];
}

/** The input transformer of a note: the template with the result event's fields. */
class NoteInput extends RuleTargetInput {
  constructor(
    private readonly template: string,
    private readonly kind: NoteKind,
  ) {
    super();
  }

  bind(): RuleTargetInputProperties {
    return { inputPathsMap: { ...NOTE_FIELDS[this.kind] }, inputTemplate: this.template };
  }
}

export class TicketReplies extends Construct {
  readonly deadLetterQueue: Queue;
  readonly alarm: Alarm;
  readonly rules: IRule[] = [];

  constructor(scope: Construct, id: string, props: TicketRepliesProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'Serverless-SQSRedrivePolicy', reason: 'A dead-letter queue: notes rest here for inspection.' },
      { id: 'AwsSolutions-SQS3', reason: 'The dead-letter queue of the ticket replies itself.' },
    );
    this.alarm = new Alarm(this, REPLY_ALARM_ID, {
      alarmDescription:
        'rekey: a note for a ticket failed every retry and waits in the ticket replies dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const connector of props.connectors) this.addConnector(props.bus, connector);
  }

  private addConnector(bus: IEventBus, connector: ConnectorReplyProps): void {
    const problem = connectorProblem(connector);
    if (problem) throw new Error(`connector ${JSON.stringify(connector.id)}: ${problem}`);
    const scope = new Construct(this, `Connector-${connector.id}`);
    const connection = new Connection(scope, 'Connection', {
      description: `rekey: API credential of ticketing connector ${connector.id} (${connector.kind})`,
      authorization: Authorization.basic(
        connector.username,
        SecretValue.secretsManager(connector.passwordSecret, {
          ...(connector.passwordField ? { jsonField: connector.passwordField } : {}),
          ...(connector.passwordVersionId ? { versionId: connector.passwordVersionId } : {}),
        }),
      ),
    });
    const call = replyCall(connector);
    const destination = new ApiDestination(scope, 'Destination', {
      description: `rekey: notes on ${connector.kind} tickets of connector ${connector.id}`,
      connection,
      endpoint: `${replyBase(connector.replyUrl)}${call.path}`,
      httpMethod: call.method as never,
      rateLimitPerSecond: 10,
    });
    for (const kind of ['completed', 'failed'] as const) {
      const rule = new Rule(scope, kind === 'completed' ? 'Completed' : 'Failed', {
        eventBus: bus,
        description: `rekey: ${DETAIL_TYPES[kind]} of connector ${connector.id} to its ticket`,
        eventPattern: {
          source: [RESULT_SOURCE],
          detailType: [DETAIL_TYPES[kind]],
          detail: { connectorId: [connector.id] },
        },
        targets: [
          // CDK declares optional members without `| undefined` (exactOptionalPropertyTypes).
          new ApiDestinationTarget(destination as IApiDestination, {
            pathParameterValues: ['$.detail.ticketId'],
            headerParameters: { 'Content-Type': 'application/json' },
            event: new NoteInput(call.body(noteTemplate(kind)), kind),
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: REPLY_RETRY_ATTEMPTS,
            maxEventAge: Duration.seconds(REPLY_MAX_AGE_SECONDS),
          }),
        ],
      });
      this.rules.push(rule);
    }
  }
}

/** A Secrets Manager VersionId (a UUID, as the service makes them; 32-64 characters). */
const SECRET_VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

/** The keys a declaration may have: any other is a typo (a misspelt passwordVersionId would renew nothing). */
const DECLARATION_KEYS: ReadonlySet<string> = new Set<keyof ConnectorReplyProps>([
  'id',
  'kind',
  'replyUrl',
  'table',
  'username',
  'passwordSecret',
  'passwordField',
  'passwordVersionId',
]);

/** Why a declaration cannot be deployed, or undefined. */
function connectorProblem(connector: ConnectorReplyProps): string | undefined {
  const unknown = Object.keys(connector).filter((key) => !DECLARATION_KEYS.has(key));
  if (unknown.length > 0) return `unknown key ${JSON.stringify(unknown[0])}`;
  if (!CONNECTOR_ID.test(connector.id)) return 'id must be 1-48 lower-case letters, digits and "-"';
  if (!['zendesk', 'jira', 'servicenow'].includes(connector.kind))
    return 'kind must be zendesk, jira or servicenow';
  const urlProblem = replyUrlProblem(connector.replyUrl);
  if (urlProblem) return `replyUrl ${urlProblem}`;
  if (!connector.replyUrl.startsWith('https://')) return 'replyUrl must be https in a deployed stack';
  if (
    connector.table !== undefined &&
    (connector.kind !== 'servicenow' || !SERVICENOW_TABLE.test(connector.table))
  ) {
    return 'table is for servicenow only, a table name like incident';
  }
  if (!connector.username || !connector.passwordSecret) return 'username and passwordSecret are required';
  if (connector.passwordVersionId !== undefined && !SECRET_VERSION_ID.test(connector.passwordVersionId)) {
    return "passwordVersionId must be a secret's VersionId (32-64 letters, digits and -)";
  }
  return undefined;
}

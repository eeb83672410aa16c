/**
 * The HTTP API: one Lambda function per row of the route table, each with a role that can do
 * only what its operation needs. Every admin route sits behind rekey's token authorizer (a
 * Lambda verifying the JWT against the issuer's JWKS; issuer and audience are stack
 * properties), which reads `Authorization: Bearer` and Huawei's `X-Auth-Token`, and lets
 * the function refuse a missing or bad token with a 401 in the route's own dialect.
 */
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, EVENT_BUS_NAME, OPENAPI_PATH, SECRET_PREFIXES } from '../../functions/contracts.ts';
import { REALM_CLAIM } from '../../functions/http/admin.ts';
import { handlerEntry, ROUTES, type RouteDefinition, routePaths } from '../../functions/routes.ts';
import { RekeyFunction } from '../constructs/rekey-function.ts';

export interface ApiStackProps extends StackProps {
  table: ITable;
  /** The customer-managed key of every secret rekey writes. */
  secretsKey: IKey;
  /** The token issuer (`iss`), e.g. a Cognito user pool or an OIDC provider URL. */
  jwtIssuer: string;
  /** Accepted audiences (`aud`). */
  jwtAudience: string[];
  /** The issuer's JWKS URL, for the token authorizer. Default: `{issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** The verified SES identity (domain or address) notifications are sent from. */
  emailIdentity: string;
  /** The From address, inside `emailIdentity`. */
  emailSender: string;
  /** Stage throttling. Default: 50 requests/s, bursts of 100. */
  throttle?: { rateLimit: number; burstLimit: number };
  /**
   * Throttling of each unauthenticated route (change-password), in place of the stage's:
   * a flood of guesses is cut down to this before any function runs, on a limit of its own
   * rather than the one the admin routes use. Default: 10 requests/s, bursts of 20.
   */
  publicRouteThrottle?: { rateLimit: number; burstLimit: number };
  /**
   * The end user's page that notifications carrying a temporary password link to (a custom
   * domain, say). Default: this API's own `/password` route.
   */
  passwordPageUrl?: string;
}

/** The default throttle of unauthenticated routes (see ApiStackProps.publicRouteThrottle). */
export const DEFAULT_PUBLIC_ROUTE_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;

/**
 * One JSON line per request. `$context.routeKey` is the route template (`POST
 * /20160918/users/{userId}/uiPassword`), never the path as sent: nothing the caller typed in the
 * URL reaches the log before a function has checked it. Not the query string, where the
 * change-password seed puts passwords; not the path's ids either, where a password typed in the
 * wrong field would land (the audit record names the user once the function has found them).
 * `subject` and `realm` are the verified `sub` and realm claim the token authorizer hands the
 * route (empty on public routes and for a request without a valid token, whose
 * `authenticated` is 'false'): who did what.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  time: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  authenticated: '$context.authorizer.authenticated',
  subject: '$context.authorizer.sub',
  realm: `$context.authorizer.${REALM_CLAIM}`,
});

export class ApiStack extends Stack {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly functions = new Map<string, RekeyFunction>();
  /** The roles of the functions that put events on the rekey bus (the ticket intake's). */
  readonly eventPutters: IRole[] = [];
  /** The function answering `GET /openapi.json` with the OpenAPI document. */
  readonly openApiFunction: RekeyFunction;
  /** The page notifications link to: the `passwordPageUrl` prop, or this API's own. */
  readonly passwordPageUrl: string;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    this.api = new HttpApi(this, 'Api', {
      apiName: 'rekey',
      description: 'rekey: password operations in five vendor dialects',
      createDefaultStage: false,
    });
    // Every notification carries this link, and the user types a password on its page: never
    // a plain-http page, where the password and the link's prefill travel in the clear.
    if (props.passwordPageUrl !== undefined && !props.passwordPageUrl.startsWith('https://')) {
      throw new Error('passwordPageUrl must be an https:// URL in a deployed stack');
    }
    if (props.passwordPageUrl?.includes('#')) {
      throw new Error('passwordPageUrl must not have a fragment (#…): links add their own query');
    }
    this.passwordPageUrl = props.passwordPageUrl ?? `${this.api.apiEndpoint}/password`;
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Guessing is throttled per account and stage before any function runs (429s); the
      // per-user lock-out in change-password is the second line.
      throttle: { rateLimit: props.throttle?.rateLimit ?? 50, burstLimit: props.throttle?.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', {
            retention: RetentionDays.THREE_MONTHS,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    // Unauthenticated routes get a smaller throttle of their own (route settings replace the
    // stage's default for that route key), so a guessing flood is cut down before it runs
    // argon2id, and is counted against a limit the admin routes do not use.
    const publicThrottle = props.publicRouteThrottle ?? DEFAULT_PUBLIC_ROUTE_THROTTLE;
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
      ROUTES.filter((route) => route.auth === 'public').flatMap((route) =>
        routeKeys(route).map((key) => [
          key,
          { ThrottlingRateLimit: publicThrottle.rateLimit, ThrottlingBurstLimit: publicThrottle.burstLimit },
        ]),
      ),
    );

    // One Lambda authorizer for every admin route, not API Gateway's JWT authorizer: that one
    // refuses a missing or bad token itself, with `{"message":"Unauthorized"}`, which is no
    // vendor's error body. The cost is one authorizer invocation per admin request (results
    // are not cached: the cache key would have to be the token, and there are two headers).
    const tokenAuthorizerFunction = new RekeyFunction(this, 'TokenAuthorizer', {
      entry: 'functions/token-authorizer/handler.ts',
      description: 'rekey: verifies Bearer or X-Auth-Token admin tokens for every admin route',
      argon2: false,
      memorySize: 256,
      environment: {
        [ENV.jwtIssuer]: props.jwtIssuer,
        [ENV.jwtAudience]: props.jwtAudience.join(','),
        ...(props.jwksUrl ? { [ENV.jwksUrl]: props.jwksUrl } : {}),
      },
    });
    const tokenAuthorizer = new HttpLambdaAuthorizer('TokenAuthorizer', tokenAuthorizerFunction.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No identity source: the token may sit in either of two headers, and a request with
      // neither must still reach the function to get a 401 in the route's dialect.
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });

    for (const route of ROUTES) {
      const fn = this.operationFunction(route, props);
      // One integration per function: a row's other paths (alsoServes) reach the same Lambda.
      const integration = new HttpLambdaIntegration(`${pascal(route.operation)}Integration`, fn.function);
      const routes = routePaths(route).flatMap(({ path, methods }, index) =>
        this.api.addRoutes({
          path,
          methods:
            index === 0 && route.answersOtherMethods ? [HttpMethod.ANY] : methods.map((m) => HttpMethod[m]),
          integration,
          ...(route.auth === 'admin' ? { authorizer: tokenAuthorizer } : {}),
        }),
      );
      if (route.auth === 'public') {
        for (const r of routes) {
          Validations.of(r).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason:
              route.publicBecause ??
              `${route.path} authenticates its caller by the current password (seed ${route.seed}), with per-user lock-out and stage throttling.`,
          });
        }
      }
      Validations.of(fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously by API Gateway: a failure is answered to the caller, nothing is queued.',
      });
    }
    Validations.of(tokenAuthorizerFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by API Gateway as an authorizer.',
    });

    // The OpenAPI document (docs/decisions.md, "Issue 11: the OpenAPI contract"): an HTTP API
    // has no mock integration, so a tiny function with no access to anything answers it,
    // built at init from the same schemas as docs/openapi.json. Public, as an API's contract
    // is; the stage's throttle applies.
    this.openApiFunction = new RekeyFunction(this, 'OpenApiDocument', {
      entry: 'functions/openapi-document/handler.ts',
      description: `rekey: GET ${OPENAPI_PATH}, the OpenAPI 3.1 document`,
      argon2: false,
      memorySize: 256,
    });
    const [documentRoute] = this.api.addRoutes({
      path: OPENAPI_PATH,
      methods: [HttpMethod.GET],
      integration: new HttpLambdaIntegration('OpenApiDocumentIntegration', this.openApiFunction.function),
    });
    if (documentRoute) {
      Validations.of(documentRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${OPENAPI_PATH} is the API's public contract (no user, realm or secret in it); stage throttling applies.`,
      });
    }
    Validations.of(this.openApiFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by API Gateway: a failure is answered to the caller, nothing is queued.',
    });
  }

  private operationFunction(route: RouteDefinition, props: ApiStackProps): RekeyFunction {
    const { access } = route;
    const fn = new RekeyFunction(this, pascal(route.operation), {
      entry: handlerEntry(route),
      description: `rekey: ${route.methods.join('/')} ${route.path} (seed ${route.seed})`,
      argon2: route.hashes,
      blocklist: route.checksChosenPasswords,
      // The runtime reads both prefixes (names only); bindSecrets grants access to one.
      environment: {
        [ENV.temporarySecretPrefix]: SECRET_PREFIXES.temporary,
        [ENV.databaseSecretPrefix]: SECRET_PREFIXES.database,
        // A row that puts events (the ticket intake) is told the rekey bus (the operations
        // stack's), named, not referenced: the operations stack is deployed after this one.
        ...(route.access.putsEvents ? { [ENV.eventBusName]: EVENT_BUS_NAME } : {}),
      },
    }).bindTable(props.table, access.table, access.writes);
    // Audit records leave as log lines (functions/adapters/audit.ts): no function needs the bus
    // for them. Only a row that puts events (the ticket intake's requests) may, on the rekey bus alone.
    if (access.putsEvents) {
      if (fn.function.role) this.eventPutters.push(fn.function.role);
      fn.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [
            this.formatArn({ service: 'events', resource: 'event-bus', resourceName: EVENT_BUS_NAME }),
          ],
        }),
      );
    }
    if (access.secrets) {
      fn.bindSecrets({ ...access.secrets, key: props.secretsKey });
    }
    if (access.notifies?.includes('email')) {
      fn.allowEmail({ identity: props.emailIdentity, sender: props.emailSender });
    }
    if (access.notifies?.includes('phone')) fn.allowSms();
    // What carries a temporary password links to the end user's page.
    if (access.notifies) fn.function.addEnvironment(ENV.passwordPageUrl, this.passwordPageUrl);
    this.functions.set(route.operation, fn);
    return fn;
  }
}

/** The route keys (`PUT /20160918/changepassword`) API Gateway gives a row of the route table. */
export function routeKeys(route: RouteDefinition): string[] {
  return routePaths(route).flatMap(({ path, methods }, index) =>
    (index === 0 && route.answersOtherMethods ? ['ANY'] : methods).map((method) => `${method} ${path}`),
  );
}

/** `create-or-reset-ui-password` → `CreateOrResetUiPassword` (construct ids are a contract). */
export function pascal(operation: string): string {
  return operation.replace(/(^|-)(\w)/g, (_m, _dash, c: string) => c.toUpperCase());
}

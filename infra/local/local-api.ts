/**
 * The whole API on one machine: every route of the table served by the local gateway with
 * the same handler modules Lambda runs, over the embedded backend or (REKEY_BACKEND=aws)
 * over the real AWS SDK environment.
 */
import './local-env.ts';
import { join } from 'node:path';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { OutboxNotifier } from '#adapters/outbox-notifier.ts';
import { createRuntime, type Runtime, settingsFromEnv } from '#adapters/runtime.ts';
import { ENV } from '#functions/contracts.ts';
import { OPENAPI_PATH, openApiDocumentText } from '#functions/openapi.ts';
import { ROUTES, type RouteDefinition } from '#functions/routes.ts';
import { restrictDataFolder } from './data-folder.ts';
import { type DevKey, loadDevKey, verifyToken } from './dev-tokens.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from './embedded-backend.ts';
import {
  auditLogPath,
  type LocalEventBus,
  type LocalEventBusOptions,
  LocalFileAuditTrail,
  startLocalEventBus,
} from './event-bus.ts';
import { type Gateway, type RouteHandler, startGateway } from './gateway.ts';

export interface LocalApiOptions {
  port?: number;
  endpointPort?: number;
  dataDir?: string;
  backend?: 'embedded' | 'aws';
  /** Keep the table on disk (npm start) rather than in memory (tests). */
  persist?: boolean;
  /** Handlers reach the embedded backend without a loopback HTTP hop (npm start). */
  inProcess?: boolean;
  accessLog?: (line: string) => void;
  /** Lets tests swap a route's runtime (fault injection, a controlled clock). */
  customizeRuntime?: (operation: string, runtime: Runtime) => Runtime;
  /** The local reply deliverer's retries and timeouts (tests make them short). */
  replies?: LocalEventBusOptions['replies'];
}

export interface LocalApi {
  gateway: Gateway;
  backend: EmbeddedBackend | undefined;
  devKey: DevKey;
  clients: ClientOptions;
  outbox: OutboxNotifier;
  /** The local event bus, ticket queue and worker (embedded backend only). */
  bus: LocalEventBus | undefined;
  runtimes: ReadonlyMap<string, Runtime>;
  close(): Promise<void>;
}

/** A handler module; the ticket intake also takes the client options of the bus it puts on. */
type HandlerModule = { createHandler(runtime: Runtime, wiring: { clients: ClientOptions }): RouteHandler };

/** Starts the backend (unless AWS) and the gateway with every route. */
export async function startLocalApi(options: LocalApiOptions = {}): Promise<LocalApi> {
  const backend =
    options.backend === 'aws'
      ? undefined
      : await startEmbeddedBackend({
          ...(options.dataDir ? { dataDir: options.dataDir } : {}),
          port: options.endpointPort ?? 0,
          persist: options.persist ?? false,
          inProcess: options.inProcess ?? false,
        });
  const dataDir = backend?.dataDir ?? options.dataDir ?? '.rekey';
  const clients = backend?.clients ?? {};
  const devKey = await loadDevKey(join(dataDir, 'keys'));
  // Also with REKEY_BACKEND=aws: the keys, the outbox and the events stay here.
  restrictDataFolder(dataDir);

  const runtimes = new Map<string, Runtime>();
  const handlers = new Map<string, RouteHandler>();
  // The gateway listens first (it finds each handler per request), so the runtimes know its
  // URL: locally, notifications and ticket results link to this very gateway's page.
  const gateway = await startGateway({
    port: options.port ?? 0,
    routes: ROUTES,
    handlers,
    verifyToken: (token) => verifyToken(devKey, token),
    openApi: { path: OPENAPI_PATH, text: openApiDocumentText() },
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
  });
  const settings = { ...settingsFromEnv(), passwordPageUrl: localPasswordPageUrl(gateway.url) };
  // Locally, every notification goes to the outbox; in AWS only notifying functions get SES/SNS.
  const outbox = new OutboxNotifier(join(dataDir, 'outbox.jsonl'));
  for (const route of ROUTES) {
    // Audit records go straight to the local audit log (the bus's own file), not over HTTP.
    const audit = new LocalFileAuditTrail(auditLogPath(dataDir));
    const base = createRuntime(route.operation, { clients, notifier: outbox, settings, audit });
    const runtime = options.customizeRuntime?.(route.operation, base) ?? base;
    runtimes.set(route.operation, runtime);
    handlers.set(route.operation, (await loadHandlerModule(route)).createHandler(runtime, { clients }));
  }

  // Ticketing events: the bus lives on the embedded backend's endpoint; in AWS it is EventBridge's.
  const bus = backend
    ? startLocalEventBus({
        endpoint: backend.endpoint,
        dataDir,
        clients,
        notifier: outbox,
        settings,
        ...(options.customizeRuntime ? { customizeRuntime: options.customizeRuntime } : {}),
        ...(options.replies ? { replies: options.replies } : {}),
      })
    : undefined;
  if (bus) runtimes.set('ticket-worker', bus.runtime);

  return {
    gateway,
    backend,
    devKey,
    clients,
    outbox,
    bus,
    runtimes,
    close: async () => {
      await gateway.close();
      await bus?.idle();
      await backend?.close();
    },
  };
}

/**
 * The page notifications link to: REKEY_PASSWORD_PAGE_URL when set (a proxy in front, say),
 * else this gateway's own `/password`.
 */
export function localPasswordPageUrl(gatewayUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.passwordPageUrl] || `${gatewayUrl}/password`;
}

async function loadHandlerModule(route: RouteDefinition): Promise<HandlerModule> {
  return (await import(`../../functions/${route.operation}/handler.ts`)) as HandlerModule;
}

/**
 * The local API for tests: the real gateway and handlers over an in-memory embedded backend,
 * with the demo realm seeded, a token minter and a small HTTP client.
 */
import type { Runtime } from '#adapters/runtime.ts';
import type { Realm, User } from '#core/model.ts';
import { DEMO_REALM_ID, seedDemo } from '#infra/local/demo.ts';
import { mintToken, type TokenOptions } from '#infra/local/dev-tokens.ts';
import { type LocalApi, type LocalApiOptions, startLocalApi } from '#infra/local/local-api.ts';

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  json: any;
}

export interface TestApi {
  api: LocalApi;
  url: string;
  /** An admin token for `realmId` (default: the demo realm). */
  token(options?: Partial<TokenOptions>): Promise<string>;
  request(
    method: string,
    path: string,
    init?: { headers?: Record<string, string>; body?: string },
  ): Promise<TestResponse>;
  /** The runtime (deps) of one operation, e.g. to read the directory. */
  runtime(operation?: string): Runtime;
  getUser(userId: string): Promise<User | undefined>;
  getRealm(realmId: string): Promise<Realm | undefined>;
  close(): Promise<void>;
}

export async function startTestApi(
  options: {
    customizeRuntime?: (operation: string, runtime: Runtime) => Runtime;
    replies?: LocalApiOptions['replies'];
  } = {},
): Promise<TestApi> {
  const api = await startLocalApi({ ...options, persist: false });
  const first = api.runtimes.values().next().value as Runtime;
  await seedDemo(first.deps.directory);
  return {
    api,
    url: api.gateway.url,
    token: (tokenOptions = {}) => mintToken(api.devKey, { realmId: DEMO_REALM_ID, ...tokenOptions }),
    async request(method, path, init = {}) {
      const res = await fetch(`${api.gateway.url}${path}`, {
        method,
        headers: init.headers ?? {},
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    runtime: (operation) => (operation ? api.runtimes.get(operation) : first) as Runtime,
    getUser: (userId) => first.deps.directory.getUser(userId),
    getRealm: (realmId) => first.deps.directory.getRealm(realmId),
    close: () => api.close(),
  };
}

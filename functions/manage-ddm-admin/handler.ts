/**
 * Lambda entry point of `PUT|POST /v3/{project_id}/instances/{instance_id}/admin-user`
 * (Huawei DDM, seed 004). Parse → operation (the seed in rekey's verbs) → 200 with no body and `X-Request-Id`.
 */
import { buildRuntime, noHasher, type Runtime } from '#adapters/runtime-base.ts';
import { instanceAccountId } from '#core/use-cases/set-database-admin.ts';
import { huawei } from '#dialects/huawei.ts';
import { adminPrincipal } from '#http/admin.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import { jsonBody, parseInput } from '#http/request.ts';
import { manageDdmAdmin } from './operation.ts';
import { manageDdmAdminRequest } from './schema.ts';

const ddm = huawei('DDM');

/** Builds the handler over a runtime; tests pass one with fakes or a local backend. */
export function createHandler(runtime: Runtime) {
  const { deps, logger } = runtime;
  const observe = observing(runtime, {
    operation: 'manage-ddm-admin',
    activity: 'reset',
    actor: 'admin',
    success: 'PasswordSet',
  });
  return httpHandler({ dialect: ddm, logger, observe }, async ({ event, requestId, note }) => {
    const admin = adminPrincipal(event);
    const request = parseInput(manageDdmAdminRequest, {
      project_id: event.pathParameters?.project_id,
      instance_id: event.pathParameters?.instance_id,
      body: jsonBody(event),
    });
    // The account is the instance's administrator, named by the instance and its user name once
    // the directory has found the instance (a refusal's subject, or the success below): never
    // as typed — a password swapped into `name` fits the name rule.
    note.target = { realmId: admin.realmId };
    await manageDdmAdmin(deps, admin, {
      projectId: request.project_id,
      instanceId: request.instance_id,
      name: request.body.name,
      password: request.body.password,
      requestId,
    });
    // Created with that name, or its name matched: the name is now the directory's.
    note.target = {
      realmId: admin.realmId,
      userId: instanceAccountId({ instanceId: request.instance_id }),
      username: request.body.name,
    };
    // The seed answers 200 with no body; whether the call created the administrator or
    // changed its password is not part of its contract.
    return {};
  });
}

// DDM passwords are stored in the vault, never hashed: the runtime has no hasher, so this
// function's bundle never loads the argon2id binding.
export const handler = createHandler(buildRuntime('manage-ddm-admin', noHasher));

/**
 * Huawei DDM "Managing the Administrator Password" (seed 004) in rekey's verbs: the path's
 * `project_id` is the realm, the seed's password rule and the body's field name are chosen
 * here, and `setDatabaseAdmin` does the rest.
 */
import { NotFoundError } from '#core/errors.ts';
import type { AdminPrincipal } from '#core/model.ts';
import { type PasswordPolicy, POLICY_PRESETS } from '#core/policy.ts';
import type { CoreDeps } from '#core/ports.ts';
import {
  type DatabaseAdminResult,
  type DatabaseAdminRules,
  setDatabaseAdmin,
} from '#core/use-cases/set-database-admin.ts';
import { realmAs } from '#http/wire.ts';

/** The seed's rules: 8–32, three of the four classes, specials from `~!@#%^*-_=+?` only. */
export const DDM_ADMIN_PASSWORD_POLICY: PasswordPolicy = POLICY_PRESETS['huawei-ddm'];

const RULES: DatabaseAdminRules = {
  policy: DDM_ADMIN_PASSWORD_POLICY,
  passwordField: 'password',
  words: {
    created: 'DDM administrator created',
    changed: 'DDM administrator password changed',
    secretDescription: 'rekey DDM administrator credential',
  },
};

export interface ManageDdmAdminInput {
  /** The path's `project_id`: the realm the admin must be acting in. */
  projectId: string;
  instanceId: string;
  name: string;
  password: string;
  requestId: string;
}

/**
 * Creates the administrator, or changes its password. Refusals come before any write:
 * another project (403), a password the seed refuses (400), an unknown instance (404),
 * another administrator name than the one created (409).
 */
export async function manageDdmAdmin(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: ManageDdmAdminInput,
): Promise<DatabaseAdminResult> {
  const { projectId, ...rest } = input;
  try {
    return await realmAs({ noun: 'project' }, () =>
      setDatabaseAdmin(deps, admin, { ...rest, realmId: projectId }, RULES),
    );
  } catch (error) {
    // The same 404, in the seed's words; it still names no id.
    if (error instanceof NotFoundError && error.entity === 'Instance') {
      throw new NotFoundError('Instance', 'The instance does not exist in this project.', { cause: error });
    }
    throw error;
  }
}

/**
 * The demo realm and users `npm start` creates on an empty backend.
 */
import { ConflictError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { Directory } from '#core/ports.ts';

export const DEMO_REALM_ID = 'demo';
/** Its name: a change-password `tenancy` may give either; the page's links give the name. */
export const DEMO_REALM_NAME = 'democorp';

export const DEMO_USERS = [
  { userId: 'u-alice', username: 'alice', email: 'alice@example.com', phone: '+15550100001' },
  { userId: 'u-bob', username: 'bob', email: 'bob@example.com' },
  { userId: 'u-carol', username: 'carol', federated: true },
] as const;

/** Creates the demo realm and users where they are missing. Returns whether anything was created. */
export async function seedDemo(directory: Directory): Promise<boolean> {
  if (await directory.getRealm(DEMO_REALM_ID)) return false;
  await ignoreExisting(directory.createRealm(newRealm(DEMO_REALM_ID, DEMO_REALM_NAME)));
  for (const user of DEMO_USERS) {
    await ignoreExisting(directory.createUser(newUser({ realmId: DEMO_REALM_ID, ...user })));
  }
  return true;
}

async function ignoreExisting(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

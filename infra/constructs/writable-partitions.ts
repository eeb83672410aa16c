/**
 * The partition keys a function may write, as IAM `StringLike` patterns for
 * `dynamodb:LeadingKeys`, built from the directory's own key functions so the grants and the
 * items cannot drift apart. The key design limits how narrow they can be: a user record's key
 * (`USER#{id}`), an instance's (`INSTANCE#{id}`) and the secrets index (`TEMPSECRET`) carry no
 * realm, so a grant is per kind of item, never per realm.
 */
import { keys } from '../../functions/contracts.ts';

export const WRITABLE = {
  /** User records; lock-out's never-landing ghost write (`USER##no-such-user`) is one too. */
  users: keys.user('*').pk,
  /** The one partition indexing every temporary (and DDM) secret, by secret name. */
  trackedSecrets: keys.trackedSecret('').pk,
  /** DDM instance records. */
  instances: keys.instance('*').pk,
  /**
   * One operation's idempotency records: `IDEMPOTENCY#{scope}` (functions/adapters/
   * idempotency.ts), with the scope its handler passes (`oci-ui-password`, `ticket`).
   */
  idempotency: keys.idempotencyPartition,
} as const;

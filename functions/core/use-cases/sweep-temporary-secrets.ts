/**
 * The sweeper: no temporary secret outlives its password. It walks the index of temporary
 * secrets (never the vault's own listing) and, for each entry, judges it against the user's
 * credential as read now.
 */
import { VersionConflictError } from '../errors.ts';
import type { Credential, DatabaseInstance, TrackedSecret, User } from '../model.ts';
import type { CoreDeps } from '../ports.ts';
import { referencesSecret, secretNameOf } from '../temporary-secrets.ts';

/** How old an unreferenced secret must be before it counts as an orphan. */
export const DEFAULT_SWEEPER_GRACE_SECONDS = 15 * 60;

export type SweepDeps = Pick<CoreDeps, 'directory' | 'vault' | 'clock'>;

export interface SweepSettings {
  /** Only names under this prefix are ever deleted, whatever the index says. */
  temporarySecretPrefix: string;
  /**
   * Database administrator secrets indexed while being created: deleted only under this prefix,
   * and only when their instance does not name them. Unset: such entries are refused.
   */
  databaseSecretPrefix?: string;
  /** Must outlast any request that is still between writing its entry and switching. */
  graceSeconds: number;
  /** Entries read per page (default 100). */
  pageSize?: number;
  /** Entries handled side by side (default 8). */
  concurrency?: number;
  /** Milliseconds the run has left; no new page is started below 30 seconds. */
  timeLeftMs?: () => number;
}

export interface SweepError {
  secret: string;
  step: 'inspect' | 'detach' | 'delete' | 'untrack' | 'refuse';
  /** The error's name, never its message (which could quote a value). */
  error: string;
}

export interface SweepReport {
  /** TEMPORARY credentials made unusable because their password expired. */
  expiredCredentials: number;
  /** Names of every secret deleted in this run, orphans included. */
  deletedSecrets: string[];
  /** Those of `deletedSecrets` that no credential referred to. */
  orphans: string[];
  /** Entries left as they were: live, or changed under the sweeper's feet. */
  kept: number;
  /** Entries that failed; each stays in the index for the next run. */
  errors: SweepError[];
  /** False when the run stopped early to keep within its time; the next run goes on. */
  complete: boolean;
}

/** What to do with one index entry. */
export type Verdict =
  | { action: 'keep' }
  /** A TEMPORARY password past its expiry: make it unusable, then delete its secret. */
  | { action: 'expire'; user: User; credential: Credential }
  /** A PERMANENT generated password: the user keeps it, its copy in the vault goes. */
  | { action: 'release'; user: User; credential: Credential }
  /** No credential refers to it, and no request can any more: delete it. */
  | { action: 'orphan' };

/** Judges one entry, given its user as read now (undefined when the user is gone). */
export function judge(
  entry: TrackedSecret,
  user: User | undefined,
  now: Date,
  graceSeconds: number,
): Verdict {
  const credential = user?.credential;
  if (user && credential && referencesSecret(credential, entry.name)) {
    if (credential.kind === 'TEMPORARY') {
      const expiresAt = credential.expiresAt ?? entry.expiresAt;
      const due = now.getTime() >= Date.parse(expiresAt);
      return due ? { action: 'expire', user, credential } : { action: 'keep' };
    }
    const due = now.getTime() >= Date.parse(entry.expiresAt);
    return due ? { action: 'release', user, credential } : { action: 'keep' };
  }
  const age = now.getTime() - Date.parse(entry.createdAt);
  return age >= graceSeconds * 1000 ? { action: 'orphan' } : { action: 'keep' };
}

/**
 * Runs one sweep over the whole index. A secret a credential refers to is deleted only
 * after a conditional write has removed that reference; anything that fails leaves the
 * entry, so the next run tries again. Throws only if the index cannot be read.
 */
export async function sweepTemporarySecrets(deps: SweepDeps, settings: SweepSettings): Promise<SweepReport> {
  const report: SweepReport = {
    expiredCredentials: 0,
    deletedSecrets: [],
    orphans: [],
    kept: 0,
    errors: [],
    complete: true,
  };
  const now = deps.clock.now();
  let after: string | undefined;
  do {
    if (settings.timeLeftMs && settings.timeLeftMs() < 30_000) {
      report.complete = false;
      break;
    }
    const page = await deps.directory.listTrackedSecrets({
      ...(after === undefined ? {} : { after }),
      limit: settings.pageSize ?? 100,
    });
    await eachAtMost(settings.concurrency ?? 8, page.secrets, (entry) =>
      sweepOne(deps, settings, entry, now, report),
    );
    after = page.next;
  } while (after !== undefined);
  return report;
}

async function sweepOne(
  deps: SweepDeps,
  settings: SweepSettings,
  entry: TrackedSecret,
  now: Date,
  report: SweepReport,
): Promise<void> {
  const fail = failureRecorder(report, entry);
  if (entry.instanceId !== undefined)
    return sweepAdminEntry(deps, settings, entry, entry.instanceId, now, report);
  if (!entry.name.startsWith(settings.temporarySecretPrefix)) return void fail('refuse', 'OutsidePrefix');
  // The name says whose secret it is: an entry that claims another user is not rekey's.
  if (!entry.name.startsWith(`${settings.temporarySecretPrefix}${entry.realmId}/${entry.userId}/`)) {
    return void fail('refuse', 'NameMismatch');
  }
  let user: User | undefined;
  try {
    user = await deps.directory.getUser(entry.userId);
  } catch (error) {
    return void fail('inspect', error);
  }
  const verdict = judge(entry, user, now, settings.graceSeconds);
  if (verdict.action === 'keep') {
    report.kept++;
    return;
  }
  let secretId = entry.name;
  if (verdict.action === 'expire' || verdict.action === 'release') {
    const { user: holder, credential } = verdict;
    secretId = credential.secretId ?? entry.name;
    try {
      await deps.directory.saveUser(detached(holder, credential), holder.version);
    } catch (error) {
      // Changed since it was read: judged afresh next run. Any other failure may hide a
      // write that did not land, so the secret a live credential may still name stays.
      if (error instanceof VersionConflictError) report.kept++;
      else fail('detach', error);
      return;
    }
    if (verdict.action === 'expire') report.expiredCredentials++;
  }
  try {
    await deps.vault.delete(secretId);
  } catch (error) {
    return void fail('delete', error);
  }
  report.deletedSecrets.push(entry.name);
  if (verdict.action === 'orphan') report.orphans.push(entry.name);
  try {
    await deps.directory.untrackSecret(entry.name);
  } catch (error) {
    fail('untrack', error);
  }
}

/** Records that `entry` failed at `step`; it stays in the index for the next run. */
function failureRecorder(report: SweepReport, entry: TrackedSecret) {
  return (step: SweepError['step'], error: unknown) =>
    report.errors.push({ secret: entry.name, step, error: errorName(error) });
}

/**
 * An entry a database administrator's creation wrote before storing its secret. Once the instance
 * names the secret, the entry has done its job and goes; if nothing names it after the grace
 * period, the request failed between its two writes and its secret is an orphan.
 */
async function sweepAdminEntry(
  deps: SweepDeps,
  settings: SweepSettings,
  entry: TrackedSecret,
  instanceId: string,
  now: Date,
  report: SweepReport,
): Promise<void> {
  const fail = failureRecorder(report, entry);
  const prefix = settings.databaseSecretPrefix;
  if (!prefix || !entry.name.startsWith(prefix)) return void fail('refuse', 'OutsidePrefix');
  // Only a name of this instance's own administrator secrets: an entry naming another
  // instance's (live) secret, or an instance that does not exist, must never delete it.
  if (!entry.name.startsWith(`${prefix}${entry.realmId}/${instanceId}/admin/`)) {
    return void fail('refuse', 'NameMismatch');
  }
  let instance: DatabaseInstance | undefined;
  try {
    instance = await deps.directory.getInstance(instanceId);
  } catch (error) {
    return void fail('inspect', error);
  }
  if (instance && instance.realmId !== entry.realmId) return void fail('refuse', 'NameMismatch');
  const adminSecretId = instance?.adminSecretId;
  const live = adminSecretId !== undefined && secretNameOf(adminSecretId) === entry.name;
  if (!live) {
    // Not provably past the grace period (an unreadable date included): keep it.
    if (!(now.getTime() - Date.parse(entry.createdAt) >= settings.graceSeconds * 1000)) {
      report.kept++;
      return;
    }
    try {
      await deps.vault.delete(entry.name);
    } catch (error) {
      return void fail('delete', error);
    }
    report.deletedSecrets.push(entry.name);
    report.orphans.push(entry.name);
  } else {
    report.kept++;
  }
  try {
    await deps.directory.untrackSecret(entry.name);
  } catch (error) {
    fail('untrack', error);
  }
}

/**
 * The user without the reference to the secret. The hash, the kind and `expiresAt` stay: an
 * expired temporary password still answers 412 (the caller proved it knew it), and a
 * permanent one still signs in.
 */
function detached(user: User, credential: Credential): User {
  const { secretId: _secretId, ...kept } = credential;
  return { ...user, credential: kept, version: user.version + 1 };
}

/** Runs `work` over `items`, at most `limit` at a time. `work` must not throw. */
async function eachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function errorName(error: unknown): string {
  if (typeof error === 'string') return error;
  if (!(error instanceof Error)) return typeof error;
  // An adapter's UnavailableError says little; the SDK error it wraps says what failed.
  return error.cause instanceof Error ? `${error.name}(${error.cause.name})` : error.name;
}

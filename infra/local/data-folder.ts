/**
 * The local data folder (`.rekey`: table, vault, keys, credentials, outbox, events, audit) is
 * readable by its owner alone: every folder 0700, every file 0600, whether rekey created it
 * or found it (a folder made by `mkdir`, a copy, an earlier version), and every file created
 * later too (umask 077, set by the local entry points).
 */
import { chmodSync, existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What rekey keeps in a data folder. Only these are changed, recursively: a data folder
 * pointed by mistake at a folder of other things (a home folder) must not have all of it
 * chmodded; the folder itself is 0700, so nothing in it is reachable by others anyway.
 */
export const DATA_FOLDER_ENTRIES = [
  'table',
  'vault',
  'keys',
  'credentials',
  'outbox.jsonl',
  'events.jsonl',
  'dead-letters.jsonl',
  // The audit records (issue 14): who set, reset or changed whose password.
  'audit.jsonl',
  'run.json',
];

/** Makes the data folder 0700 and rekey's entries in it owner-only (folders 0700, files 0600). */
export function restrictDataFolder(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const entry of DATA_FOLDER_ENTRIES) {
    const path = join(dataDir, entry);
    if (existsSync(path)) restrictTree(path);
  }
}

/** Folders 0700, files 0600, all the way down; symbolic links are neither followed nor changed. */
function restrictTree(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (!stat.isDirectory()) {
    chmodSync(path, 0o600);
    return;
  }
  chmodSync(path, 0o700);
  for (const entry of readdirSync(path)) restrictTree(join(path, entry));
}

/**
 * Files and folders this process creates from now on are owner-only, whatever mode their
 * creator asks for (LevelDB asks 0666 for its tables and logs). Worker threads cannot change
 * the umask; there, `restrictDataFolder` is the only guard.
 */
export function restrictUmask(): void {
  try {
    const previous = process.umask(0o077);
    process.umask(previous | 0o077);
  } catch {
    // ERR_WORKER_UNSUPPORTED_OPERATION
  }
}

/**
 * Which `npm start` owns a data folder, and where the data folder is.
 *
 * - `npm start` takes the data folder's lock: it creates `<dataDir>/run.json` exclusively
 *   (0600) with its pid before it opens the table, fills in its URLs once it listens, and
 *   removes the file when it exits (also on SIGINT and SIGTERM). A second `npm start` on the
 *   same folder finds the file, sees the pid alive (`process.kill(pid, 0)`) and refuses; a file
 *   left by a process that died (kill -9, a crash) names a dead pid and is taken over.
 * - The CLI reads the same file to find the running instance's endpoint: no port to pass.
 * - The data folder is found the way git finds `.git`: REKEY_DATA_DIR when set, else the
 *   `.rekey` folder of the nearest folder, from the working directory up, that holds one. The
 *   CLI never creates a data folder; only `npm start` does (in the folder it is started from:
 *   npm runs it in the project's root).
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The data folder's name in a project. */
export const DATA_FOLDER_NAME = '.rekey';
/** The run file (and lock) `npm start` keeps in its data folder while it runs. */
export const RUN_FILE = 'run.json';

export interface RunInfo {
  pid: number;
  /** The API gateway's URL, once it listens. */
  api?: string;
  /** The embedded AWS-compatible endpoint's URL (none with REKEY_BACKEND=aws). */
  endpoint?: string;
  backend?: 'embedded' | 'aws';
  startedAt?: string;
}

export const runFilePath = (dataDir: string) => join(dataDir, RUN_FILE);

/** Whether a process with this pid exists (one of another user counts: EPERM). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run file's content, or undefined when there is none (or it cannot be read as one). */
export function readRunFile(dataDir: string): RunInfo | undefined {
  let text: string;
  try {
    text = readFileSync(runFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as RunInfo;
    return typeof value.pid === 'number' ? value : { pid: 0 };
  } catch {
    // Being written right now, or damaged: no pid to trust.
    return { pid: 0 };
  }
}

/** Another rekey holds the data folder or a port: the one line `npm start` exits with. */
export class InstanceConflictError extends Error {}

export interface DataFolderLock {
  /** Fills in the URLs once the servers listen. */
  update(info: Omit<RunInfo, 'pid'>): void;
  /** Removes the run file if it is still this process's (idempotent, synchronous). */
  release(): void;
}

/**
 * Takes the data folder's lock for this process, or throws an InstanceConflictError naming the
 * pid that holds it. A run file whose pid is gone is stale and taken over.
 */
export function lockDataFolder(dataDir: string, pid: number = process.pid): DataFolderLock {
  const path = runFilePath(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeFileSync(fd, JSON.stringify({ pid }));
      } finally {
        closeSync(fd);
      }
      return ownLock(dataDir, pid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readRunFile(dataDir);
    if (holder && holder.pid !== 0 && holder.pid !== pid && isAlive(holder.pid)) {
      throw new InstanceConflictError(
        `another rekey (pid ${holder.pid}) is using the data folder ${dataDir}; stop it first, or start this one with another REKEY_DATA_DIR`,
      );
    }
    if (holder?.pid === 0 && Date.now() - mtimeMs(path) < 2000) {
      // Another start created it a moment ago and is writing its pid: it holds the lock.
      throw new InstanceConflictError(
        `another rekey is starting on the data folder ${dataDir}; stop it first, or start this one with another REKEY_DATA_DIR`,
      );
    }
    // Stale: left by a process that is gone (or by this very pid). Take it over.
    rmSync(path, { force: true });
  }
  throw new InstanceConflictError(`could not take the lock ${path}`);
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function ownLock(dataDir: string, pid: number): DataFolderLock {
  const path = runFilePath(dataDir);
  let released = false;
  return {
    update(info) {
      if (released) return;
      writeFileSync(path, `${JSON.stringify({ pid, ...info }, null, 2)}\n`, { mode: 0o600 });
    },
    release() {
      if (released) return;
      released = true;
      // Only our own file: a stale take-over by another start must not lose its lock.
      if (readRunFile(dataDir)?.pid === pid) rmSync(path, { force: true });
    },
  };
}

/**
 * The data folder: REKEY_DATA_DIR when set (as given, resolved against `cwd`), else the nearest
 * `<folder>/.rekey` from `cwd` up. Undefined when there is none: nothing is created.
 */
export function findDataDir(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string | undefined {
  if (env.REKEY_DATA_DIR) return resolve(cwd, env.REKEY_DATA_DIR);
  let folder = resolve(cwd);
  for (;;) {
    const candidate = join(folder, DATA_FOLDER_NAME);
    if (isDirectory(candidate)) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

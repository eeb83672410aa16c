/**
 * The suite-wide plaintext check's state: a ledger of every password the code under test
 * handled in this test file, everything the worker wrote (process.stdout, process.stderr and
 * console.*), and a scan of the one for the other. test/support/plaintext-setup.ts fills both
 * in every test worker and fails the file in an afterAll if a password appears in its output.
 *
 * The state lives on globalThis, so a process that runs several files (and so several
 * copies of this module) still has one ledger and one capture, reset per file by the setup.
 *
 * Reports name the file, the kind of output, the form and what recorded the password, and
 * show the surrounding text with every ledger password masked: never a password itself.
 */
import { inspect } from 'node:util';

/**
 * Shorter ledger entries are not searched. Every realm policy (functions/core/policy.ts) asks
 * for at least 8 characters and generated passwords are longer, so every password rekey can
 * set, store or send is searched. Strings shorter than that reach the hasher only as attempts
 * that are verified and refused (a current password of 'x', unit tests' `hash('x')`); they
 * also occur by chance in ordinary output ('x', 'abc', 'Sh0rt!'), so they would be false
 * positives. (hostile-input's short or odd strings are refused before any hash and never
 * enter the ledger at all.)
 */
export const MIN_PASSWORD_LENGTH = 8;

/** Where output was seen: a stream's `write`, or a console method. */
export type OutputKind =
  /** Every audit record built (AuditTrail.record), whatever trail delivers it (issue 14). */
  | 'audit.record'
  /** Every response a local gateway of this worker sent over the route table: status, headers, body. */
  | 'gateway.response'
  | 'process.stdout'
  | 'process.stderr'
  | `console.${'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'dir'}`;

export interface Leak {
  /** The output it appeared in. */
  kind: OutputKind;
  /** How it was written: as is, JSON-escaped, percent-encoded, base64... */
  form: string;
  /** What recorded the password (e.g. `argon2idHasher.verify`), never the password. */
  recordedBy: string;
  /** The password's length. */
  length: number;
  /** The text around it, every ledger password masked. */
  context: string;
}

interface State {
  /** Password → what recorded it. */
  passwords: Map<string, Set<string>>;
  /** Output chunks by kind, in order. */
  output: Map<OutputKind, string[]>;
  /** Nesting of output taps: a console that writes to a stream is recorded once. */
  depth: number;
  /** Inside a leak drill: record, but do not pass on. */
  swallow: boolean;
  installed: boolean;
}

/** One `T` per process under `name`, whichever copy of a module asks first. */
export function perProcess<T>(name: string, create: () => T): T {
  const key = Symbol.for(name);
  const registry = globalThis as unknown as Record<symbol, T>;
  if (!(key in registry)) registry[key] = create();
  return registry[key] as T;
}

const state = perProcess<State>('rekey.test.password-ledger', () => ({
  passwords: new Map(),
  output: new Map(),
  depth: 0,
  swallow: false,
  installed: false,
}));

/** Internal to the setup and the output taps. */
export const ledgerState = state;

/** Starts a new file: an empty ledger and capture. */
export function resetLedger(): void {
  state.passwords.clear();
  state.output.clear();
}

/** Whether test/support/plaintext-setup.ts ran in this worker (the detector is on). */
export function detectorInstalled(): boolean {
  return state.installed;
}

/** Records a password the code under test handled. */
export function recordPassword(password: unknown, recordedBy: string): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) return;
  let sources = state.passwords.get(password);
  if (!sources) {
    sources = new Set();
    state.passwords.set(password, sources);
  }
  sources.add(recordedBy);
}

/**
 * Records the passwords in a secret value written to a vault: the string fields named like a
 * password (`password` of a temporary secret and of a DDM administrator's RDS-style secret).
 * Values that are not JSON (tests' own sample secrets) hold no password.
 */
export function recordSecretValue(value: unknown, recordedBy: string): void {
  if (typeof value !== 'string') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return;
  }
  const visit = (node: unknown, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 4) return;
    for (const [key, field] of Object.entries(node)) {
      if (typeof field === 'string' && /pass(word)?/i.test(key)) recordPassword(field, recordedBy);
      else visit(field, depth + 1);
    }
  };
  visit(parsed, 0);
}

/** Records output the worker wrote. */
export function recordOutput(kind: OutputKind, text: string): void {
  if (!text) return;
  let chunks = state.output.get(kind);
  if (!chunks) {
    chunks = [];
    state.output.set(kind, chunks);
  }
  chunks.push(text);
}

/** The text one console call prints (as `console.*` formats it, nested values a little deeper). */
export function formatConsoleArgs(args: readonly unknown[]): string {
  return args
    .map((arg) =>
      typeof arg === 'string'
        ? arg
        : inspect(arg, { depth: 6, breakLength: Number.POSITIVE_INFINITY, maxStringLength: null }),
    )
    .join(' ');
}

/** The text one stream write carries. */
export function chunkText(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString('utf8');
  return chunk === undefined || chunk === null ? '' : String(chunk);
}

/**
 * The forms a password could take in text. base64 is searched at each of its three byte
 * alignments (the stable middle of the encoding), so a password inside a longer encoded
 * value (a Basic header, a token) is found too; url-safe base64 as well.
 */
export function passwordForms(password: string): Array<[form: string, text: string]> {
  const forms = new Map<string, string>();
  const add = (name: string, text: string) => {
    if (text.length >= MIN_PASSWORD_LENGTH && !forms.has(text)) forms.set(text, name);
  };
  add('as is', password);
  const jsonEscaped = JSON.stringify(password).slice(1, -1);
  add('JSON-escaped', jsonEscaped);
  add('JSON-escaped twice', JSON.stringify(jsonEscaped).slice(1, -1));
  add('inspect-quoted', inspect(password).slice(1, -1));
  add('percent-encoded', encodeURIComponent(password));
  add('form-encoded', new URLSearchParams({ p: password }).toString().slice(2));
  const bytes = Buffer.from(password, 'utf8');
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters that mix in bytes before or after the password are dropped.
    const core = encoded.slice([0, 2, 3][offset], 4 * Math.floor((offset + bytes.length) / 3));
    add('base64-encoded', core);
    add('base64url-encoded', core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].map(([text, name]) => [name, text]);
}

interface Needle {
  text: string;
  form: string;
  password: string;
}

/**
 * Every ledger password found in `output` (default: everything captured for this file).
 * One pass over the text: each position's first MIN_PASSWORD_LENGTH characters are looked up
 * among the forms' prefixes, so the cost grows with the output, not output × passwords.
 */
export function findLeaks(output: ReadonlyMap<OutputKind, readonly string[]> = state.output): Leak[] {
  if (state.passwords.size === 0) return [];
  const byPrefix = new Map<string, Needle[]>();
  for (const password of state.passwords.keys()) {
    for (const [form, text] of passwordForms(password)) {
      const prefix = text.slice(0, MIN_PASSWORD_LENGTH);
      const needles = byPrefix.get(prefix) ?? [];
      needles.push({ text, form, password });
      byPrefix.set(prefix, needles);
    }
  }
  const leaks: Leak[] = [];
  for (const [kind, chunks] of output) {
    const text = chunks.join('');
    const reported = new Set<string>();
    for (let i = 0; i + MIN_PASSWORD_LENGTH <= text.length; i++) {
      const needles = byPrefix.get(text.slice(i, i + MIN_PASSWORD_LENGTH));
      if (!needles) continue;
      for (const needle of needles) {
        if (!text.startsWith(needle.text, i) || reported.has(needle.password)) continue;
        reported.add(needle.password);
        leaks.push({
          kind,
          form: needle.form,
          recordedBy: [...(state.passwords.get(needle.password) ?? [])].join(', '),
          length: needle.password.length,
          context: masked(text.slice(Math.max(0, i - 80), i + needle.text.length + 80)),
        });
      }
    }
  }
  return leaks;
}

/** `text` with every form of every ledger password replaced by a marker. */
function masked(text: string): string {
  let result = text;
  for (const password of state.passwords.keys()) {
    for (const [, form] of passwordForms(password)) {
      if (result.includes(form)) result = result.split(form).join('«password»');
    }
  }
  return result.replace(/\s+/g, ' ');
}

/** A failure message for `leaks` in `file`: what, where and how, never the password. */
export function describeLeaks(file: string, leaks: readonly Leak[]): string {
  const lines = leaks.map(
    (leak) =>
      `  - a ${leak.length}-character password recorded by ${leak.recordedBy} appears ${leak.form} in ${leak.kind} output: …${leak.context}…`,
  );
  return [
    `${file}: ${leaks.length} password(s) handled by the code under test reached the worker's output`,
    ...lines,
  ].join('\n');
}

/**
 * Runs `work` with the output taps recording but passing nothing on, and returns what the
 * detector finds in the output written meanwhile. That output is then dropped from the
 * file's capture, so a deliberate leak proves the detector without failing the file.
 */
export async function leakDrill(work: () => Promise<void> | void): Promise<Leak[]> {
  const marks = new Map([...state.output].map(([kind, chunks]) => [kind, chunks.length]));
  const swallowing = state.swallow;
  state.swallow = true;
  try {
    await work();
  } finally {
    state.swallow = swallowing;
  }
  const during = new Map<OutputKind, string[]>();
  for (const [kind, chunks] of state.output) {
    const mark = marks.get(kind) ?? 0;
    during.set(kind, chunks.slice(mark));
    chunks.length = mark;
  }
  return findLeaks(during);
}

/**
 * Issue 10: the core speaks rekey's words only — realm, user, credential, instance. Vendor
 * field names, status quirks and policy choices live in each `functions/<operation>/`. This
 * scans the code of `functions/core` (comments aside) for any vendor's word; the few that
 * stay are listed below, each with its reason, so a new one fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CORE = join(ROOT, 'functions', 'core');

/** Vendors, their tenant and channel fields, and the names of their services. */
const VENDOR_WORDS =
  /\b(?:projectId|project_id|directoryId|DirectoryId|notification_type|tenancy|Tenancy|GenerateRandomPassword|opc-[a-z-]+)\b|huawei|alibaba|cloudsso|\bddm\b|\boci\b|oracle/gi;

/**
 * Words that stay, and why. `file` is relative to functions/core; `word` is the match as found.
 * Policy presets are data: a realm names one as its policy, and an operation picks the one
 * its vendor's seed states (`POLICY_PRESETS['huawei-ddm']` in functions/manage-ddm-admin).
 */
const ALLOWED: readonly { file: string; word: string; why: string }[] = [
  { file: 'policy.ts', word: 'oci', why: 'preset name (data a realm or an operation picks)' },
  { file: 'policy.ts', word: 'huawei', why: 'preset names huawei-iam, huawei-ddm (data)' },
  { file: 'policy.ts', word: 'alibaba', why: 'preset name alibaba-cloudsso (data)' },
  { file: 'policy.ts', word: 'cloudsso', why: 'preset name alibaba-cloudsso (data)' },
  { file: 'policy.ts', word: 'ddm', why: 'preset name huawei-ddm (data)' },
  { file: 'factories.ts', word: 'oci', why: "a new realm's default preset (data)" },
  { file: 'factories.ts', word: 'ddm', why: "a new instance's default host name (data)" },
];

/** The code of a TypeScript file without its comments (strings kept). */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function vendorWords(): { file: string; word: string }[] {
  return filesUnder(CORE).flatMap((path) => {
    const file = relative(CORE, path).split('\\').join('/');
    return [...codeOf(readFileSync(path, 'utf8')).matchAll(VENDOR_WORDS)].map((m) => ({ file, word: m[0] }));
  });
}

describe('the core speaks by capability (issue 10)', () => {
  it('names no vendor, vendor field, or vendor service in its code, but for the listed data', () => {
    const unexplained = vendorWords().filter(
      (found) =>
        !ALLOWED.some((a) => a.file === found.file && a.word.toLowerCase() === found.word.toLowerCase()),
    );
    expect(unexplained).toEqual([]);
  });

  it('lists no word that is gone: the list shrinks as words move out', () => {
    const found = vendorWords();
    const stale = ALLOWED.filter(
      (a) => !found.some((f) => a.file === f.file && a.word.toLowerCase() === f.word.toLowerCase()),
    );
    expect(stale).toEqual([]);
  });

  it('finds what it looks for: a vendor field in core code is reported, a comment is not', () => {
    const planted = codeOf("const projectId = 'p1'; // notification_type\n/* huawei */ const x = 1;");
    expect([...planted.matchAll(VENDOR_WORDS)].map((m) => m[0])).toEqual(['projectId']);
  });

  it('has one tenant check: ForbiddenError is raised by authorize only', () => {
    const raisers = filesUnder(CORE)
      .filter((path) => /new ForbiddenError\(/.test(codeOf(readFileSync(path, 'utf8'))))
      .map((path) => relative(CORE, path).split('\\').join('/'));
    expect(raisers).toEqual(['use-cases/authorize.ts']);
  });
});

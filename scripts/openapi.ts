/**
 * `npm run openapi`: writes docs/openapi.json from the zod schemas (functions/openapi.ts).
 * `npm run openapi -- --check` exits 1 when the committed file differs from the generated one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocumentText } from '#functions/openapi.ts';

const FILE = join(import.meta.dirname, '..', 'docs', 'openapi.json');
const text = openApiDocumentText();
if (process.argv.includes('--check')) {
  const committed = readFileSync(FILE, 'utf8');
  if (committed !== text) {
    console.error('docs/openapi.json is stale: run npm run openapi');
    process.exit(1);
  }
  console.log('docs/openapi.json is up to date');
} else {
  writeFileSync(FILE, text);
  const document = JSON.parse(text) as { paths: Record<string, object> };
  const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(
    `wrote docs/openapi.json: ${Object.keys(document.paths).length} paths, ${operations} operations, ${Buffer.byteLength(text)} bytes`,
  );
}

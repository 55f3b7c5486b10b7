/**
 * Writes crds/*.yaml from the schemas. Run with `npm run generate -w @kok/api`
 * (or `nx run @kok/api:generate`). Stale files of kinds that no longer exist
 * are removed; examples/ is left alone.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdFiles } from './crd-files.ts';

export const CRDS_DIR = join(import.meta.dirname, '..', '..', '..', 'crds');

const files = crdFiles();
mkdirSync(CRDS_DIR, { recursive: true });
for (const existing of readdirSync(CRDS_DIR)) {
  if (existing.endsWith('.yaml') && !files.has(existing)) rmSync(join(CRDS_DIR, existing));
}
for (const [name, content] of files) writeFileSync(join(CRDS_DIR, name), content);
console.log(`wrote ${files.size} CRDs to ${CRDS_DIR}`);

/**
 * The examples in crds/examples, loaded for tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KindName } from '../resources.ts';

export const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'crds', 'examples');

export interface KokObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A fresh copy of the example of `kind` each call, so tests may mutate it. */
export function example(kind: KindName): KokObject {
  return parse(readFileSync(join(EXAMPLES_DIR, `${kind.toLowerCase()}.yaml`), 'utf8')) as KokObject;
}

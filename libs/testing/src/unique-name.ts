import { randomBytes } from 'node:crypto';

/** A DNS-1123 name unique to this test run, for namespaces and cluster-scoped objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

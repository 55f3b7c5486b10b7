/** `-o json` and `-o yaml`: any value as a JSON or YAML document. */
import { stringify } from 'yaml';

export function renderDocument(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value, { lineWidth: 0 });
}

/** A list of objects the way kubectl prints one: `kind: List` with items. */
export function asList(items: readonly unknown[]): { apiVersion: 'v1'; kind: 'List'; items: unknown[] } {
  return { apiVersion: 'v1', kind: 'List', items: [...items] };
}

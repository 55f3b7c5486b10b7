/**
 * `kubectl get`-style lists built from the printer columns the CRDs declare
 * (libs/api), so `kubectl kok cluster list` and `kubectl get clusters` agree.
 */
import type { PrinterColumn } from '@kok/api';
import { formatAge } from './age.ts';
import { renderTable } from './table.ts';

/**
 * The value at a printer column's JSONPath. Supports the two forms the kok
 * CRDs use: a field path (`.status.phase`) and a condition lookup
 * (`.status.conditions[?(@.type=="Available")].status`). Anything else, or a
 * missing value, is undefined.
 */
export function valueAtJsonPath(object: unknown, jsonPath: string): unknown {
  const filter = /^(.*)\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\](.*)$/.exec(jsonPath);
  if (filter) {
    const [, listPath = '', key = '', wanted = '', rest = ''] = filter;
    const list = valueAtJsonPath(object, listPath);
    if (!Array.isArray(list)) return undefined;
    const item: unknown = list.find(
      (entry: unknown) =>
        typeof entry === 'object' && entry !== null && (entry as Record<string, unknown>)[key] === wanted,
    );
    return rest === '' ? item : valueAtJsonPath(item, rest);
  }
  if (!/^(\.[A-Za-z0-9_-]+)*$/.test(jsonPath)) return undefined;
  let value: unknown = object;
  for (const field of jsonPath.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, field)) return undefined;
    value = (value as Record<string, unknown>)[field];
  }
  return value;
}

/** A cell as kubectl prints it: `<none>` when absent, ages for dates. */
export function formatCell(value: unknown, type: PrinterColumn['type'], now: Date): string {
  if (value === undefined || value === null || value === '') return '<none>';
  if (type === 'date') return formatAge(String(value), now);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface ListOptions {
  /** Show the columns with priority > 0 too (`-o wide`). Default false. */
  wide?: boolean;
  /** Start with a NAMESPACE column (`--all-namespaces`). Default false. */
  withNamespace?: boolean;
  now: Date;
}

interface Listed {
  metadata?: { name?: string; namespace?: string };
}

/** NAME (and NAMESPACE) then the printer columns, one row per object. */
export function renderList(
  objects: readonly Listed[],
  columns: readonly PrinterColumn[],
  options: ListOptions,
): string {
  const shown = columns.filter((column) => options.wide === true || (column.priority ?? 0) === 0);
  const headers = [
    ...(options.withNamespace ? ['Namespace'] : []),
    'Name',
    ...shown.map((column) => column.name),
  ];
  const rows = objects.map((object) => [
    ...(options.withNamespace ? [object.metadata?.namespace ?? ''] : []),
    object.metadata?.name ?? '',
    ...shown.map((column) => formatCell(valueAtJsonPath(object, column.jsonPath), column.type, options.now)),
  ]);
  return renderTable(headers, rows);
}

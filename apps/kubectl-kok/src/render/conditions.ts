import type { Condition } from '@kok/api';
import { formatAge } from './age.ts';
import { renderTable } from './table.ts';

/** Conditions as a table (TYPE STATUS REASON AGE MESSAGE), or `<none>`. */
export function renderConditions(conditions: readonly Condition[] | undefined, now: Date): string {
  if (!conditions || conditions.length === 0) return '<none>\n';
  return renderTable(
    ['Type', 'Status', 'Reason', 'Age', 'Message'],
    conditions.map((c) => [c.type, c.status, c.reason, formatAge(c.lastTransitionTime, now), c.message]),
  );
}

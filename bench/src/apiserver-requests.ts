// The apiserver's own request counters (apiserver_request_total on its /metrics), by verb and resource, so
// that a benchmark counts what reached the apiserver rather than what a client believes it sent.
import type { KubeClient } from '@kok/reconcile';

/** Verbs that write (apiserver_request_total spells server-side apply APPLY). */
export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'POST',
  'PUT',
  'PATCH',
  'APPLY',
  'DELETE',
  'CREATE',
  'UPDATE',
]);

/** `VERB resource[/subresource]` → requests, summed over the other labels (code, scope, version…). Pure. */
export function requestsByKind(metricsText: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (key: string) => new RegExp(`[{,]${key}="([^"]*)"`).exec(line)?.[1] ?? '';
    const subresource = label('subresource');
    const key = `${label('verb')} ${label('resource')}${subresource ? `/${subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** What grew from `before` to `after`, largest first; only the kinds whose verb writes when `writesOnly`. Pure. */
export function requestDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  writesOnly = false,
): Record<string, number> {
  const grown: [string, number][] = [];
  for (const [key, value] of after) {
    if (writesOnly && !WRITE_VERBS.has(key.split(' ')[0] ?? '')) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) grown.push([key, delta]);
  }
  return Object.fromEntries(grown.sort(([, a], [, b]) => b - a));
}

/** The sum of a delta's counts. */
export const total = (delta: Record<string, number>): number =>
  Object.values(delta).reduce((sum, n) => sum + n, 0);

/** The apiserver's request counters now (the client needs to be allowed to get /metrics). */
export async function scrapeRequests(client: KubeClient): Promise<Map<string, number>> {
  return requestsByKind(await client.request<string>('GET', '/metrics'));
}

/**
 * An audit policy (JSON, which the apiserver reads as YAML) that records the write requests of the users in
 * `group`, once each when the response is complete, and nothing else: the apiserver's request counters
 * carry no user, so this is how a benchmark tells one writer's share from another's at little cost.
 */
export function writesAuditPolicy(group: string): string {
  return JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'Metadata',
        userGroups: [group],
        verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
      },
      { level: 'None' },
    ],
  });
}

/**
 * The requests an audit log (one JSON event a line) records as complete (or failed in a panic). A line that
 * does not parse is one the apiserver is still writing: it counts at the next reading. Pure.
 */
export function auditedRequests(auditLog: string): number {
  let count = 0;
  for (const line of auditLog.split('\n')) {
    let stage: unknown;
    try {
      stage = (JSON.parse(line) as { stage?: unknown }).stage;
    } catch {
      continue;
    }
    if (stage === 'ResponseComplete' || stage === 'Panic') count++;
  }
  return count;
}

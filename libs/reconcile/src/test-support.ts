// Helpers for this library's integration tests; not part of the public surface.
// Brings in the typing of what the shared control plane's global setup provides to tests.
import type {} from '@kok/testing/global-setup';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { builtinTypes } from './builtin-types.ts';
import type { KubeClient } from './kube-client.ts';
import { eventually as pollUntil } from '@kok/testing';

/** Polls `check` until it returns truthy; fails with `what` after `timeoutMs` (default 20 s). */
export const eventually = <R>(what: string, check: () => R | Promise<R>, timeoutMs = 20_000): Promise<R> =>
  pollUntil(what, check, timeoutMs, 50);

let counter = 0;

/** Creates a namespace with a unique name and returns the name. */
export async function freshNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await client.create(builtinTypes.namespace, { metadata: { name } });
  return name;
}

export function configMap(
  namespace: string,
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): V1ConfigMap {
  return { metadata: { namespace, name, labels }, data };
}

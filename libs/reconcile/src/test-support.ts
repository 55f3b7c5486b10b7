// Helpers for this library's integration tests; not part of the public surface.
// Brings in the typing of what the shared control plane's global setup provides to tests.
import type {} from '@kok/testing/global-setup';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { builtinTypes } from './builtin-types.ts';
import type { KubeClient } from './kube-client.ts';

/** Polls `check` until it returns truthy; fails with `what` after `timeoutMs`. */
export async function eventually<R>(
  what: string,
  check: () => R | Promise<R>,
  timeoutMs = 20_000,
): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

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

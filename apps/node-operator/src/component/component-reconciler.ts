import { canonicalJson } from '@kok/reconcile';
import type { Informer, KubeClient, Reconciler } from '@kok/reconcile';
import { componentStatusFor } from '../shared/component-acceptance.ts';
import { componentType } from '../shared/resources.ts';
import type { ComponentObject } from '@kok/api';

export interface ComponentDeps {
  client: KubeClient;
  components: Informer<ComponentObject>;
  now: () => Date;
}

/**
 * Component: observe (cache) → plan (componentStatusFor, pure) → apply (a
 * status merge patch guarded by resourceVersion, only when it changes).
 * Writes status.observedGeneration and condition Accepted.
 */
export function componentReconciler(deps: ComponentDeps): Reconciler {
  return async (request) => {
    const component = deps.components.getByName(undefined, request.name);
    if (!component || component.metadata?.deletionTimestamp) return;
    const status = componentStatusFor(component, deps.now());
    if (canonicalJson(status) === canonicalJson(component.status ?? {})) return;
    const updated = await deps.client.mergePatchStatus(
      componentType,
      { name: request.name },
      { metadata: { resourceVersion: component.metadata?.resourceVersion }, status },
    );
    await deps.components.waitFor(new Map([[request.name, updated.metadata?.resourceVersion ?? '']]));
  };
}

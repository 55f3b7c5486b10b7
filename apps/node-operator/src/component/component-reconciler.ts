import type { Component } from '@kok/api';
import type { Informer, KubeClient, Reconciler } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';
import { waitForCache } from '../shared/cache-sync.ts';
import { componentStatusFor } from '../shared/component-acceptance.ts';
import { componentType } from '../shared/resources.ts';
import { stableJson } from '../shared/stable-json.ts';

type ComponentObject = Component & KubernetesObject;

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
    if (stableJson(status) === stableJson(component.status ?? {})) return;
    const updated = await deps.client.mergePatchStatus(
      componentType,
      { name: request.name },
      { metadata: { resourceVersion: component.metadata?.resourceVersion }, status },
    );
    await waitForCache(deps.components, new Map([[request.name, updated.metadata?.resourceVersion ?? '']]));
  };
}

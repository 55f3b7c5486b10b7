/**
 * The add-ons' I/O on a biz apiserver: server-side apply of what is enabled,
 * delete of what is disabled, and a read of their two workloads.
 */
import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import type { KubeClient, ResourceType } from '@kok/reconcile';
import { builtinTypes, isNotFound } from '@kok/reconcile';
import type { AddonBundle } from './addon-bundle.ts';
import { addonTypeOf, daemonSetType } from './addon-bundle.ts';
import type { AddonWorkloads } from './addon-readiness.ts';
import { ADDON_NAMESPACE } from './addon-labels.ts';
import { COREDNS_NAME } from './coredns.ts';
import { KUBE_PROXY_NAME } from './kube-proxy.ts';

export async function applyAddons(biz: KubeClient, bundle: AddonBundle): Promise<void> {
  for (const obj of bundle.apply) await biz.apply(addonTypeOf(obj), obj);
  for (const obj of bundle.remove)
    await biz.delete(addonTypeOf(obj), {
      name: obj.metadata?.name ?? '',
      ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    });
}

export async function readAddonWorkloads(biz: KubeClient): Promise<AddonWorkloads> {
  const getOrUndefined = async <T extends V1Deployment | V1DaemonSet>(
    type: ResourceType<T>,
    name: string,
  ) => {
    try {
      return await biz.get(type, { namespace: ADDON_NAMESPACE, name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const [coreDNS, kubeProxy] = await Promise.all([
    getOrUndefined(builtinTypes.deployment, COREDNS_NAME),
    getOrUndefined(daemonSetType, KUBE_PROXY_NAME),
  ]);
  return { coreDNS, kubeProxy };
}

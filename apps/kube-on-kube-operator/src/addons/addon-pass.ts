/**
 * The add-ons' I/O on a biz apiserver: server-side apply of each enabled
 * add-on (on every pass: an apply of what is there changes nothing, and one
 * of what someone changed or deleted puts it back), delete of the objects of
 * a disabled one that this operator made (a DNS or proxy of the user's own
 * under the same names is left alone), and a read of the two workloads.
 * One add-on's failure does not stop the other.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient, ResourceType } from '@kok/reconcile';
import { builtinTypes, isNotFound } from '@kok/reconcile';
import { ADDON_NAMESPACE, isOwnAddonObject } from '@kok/cluster-addons';
import type { AddonBundle, AddonName } from './addon-bundle.ts';
import { ADDON_NAMES, ADDON_OBJECT_NAMES, addonTypeOf, daemonSetType } from './addon-bundle.ts';
import type { AddonWorkloads } from './addon-readiness.ts';

export interface AddonPassResult {
  /** Add-ons whose apply or removal failed, and the error. */
  readonly failed: Partial<Record<AddonName, string>>;
  /** Objects of a disabled add-on that this operator did not make: kept. */
  readonly foreign: readonly string[];
  readonly workloads: AddonWorkloads;
}

export async function runAddonPass(biz: KubeClient, bundle: AddonBundle): Promise<AddonPassResult> {
  const failed: Partial<Record<AddonName, string>> = {};
  const foreign: string[] = [];
  for (const name of ADDON_NAMES) {
    const plan = bundle.plans[name];
    try {
      if (plan.kind === 'apply') for (const obj of plan.objects) await biz.apply(addonTypeOf(obj), obj);
      if (plan.kind === 'remove')
        for (const obj of plan.objects) {
          const type = addonTypeOf(obj);
          const ref = {
            name: obj.metadata?.name ?? '',
            ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
          };
          const live = await getOrUndefined(biz, type, ref);
          if (!live) continue;
          if (isOwnAddonObject(live, ADDON_OBJECT_NAMES[name])) await biz.delete(type, ref);
          else foreign.push(`${obj.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`);
        }
    } catch (error) {
      failed[name] = (error as Error).message;
    }
  }
  const [coreDNS, kubeProxy] = await Promise.all([
    getOrUndefined(biz, builtinTypes.deployment, {
      namespace: ADDON_NAMESPACE,
      name: ADDON_OBJECT_NAMES.coreDNS,
    }),
    getOrUndefined(biz, daemonSetType, { namespace: ADDON_NAMESPACE, name: ADDON_OBJECT_NAMES.kubeProxy }),
  ]);
  return { failed, foreign, workloads: { coreDNS, kubeProxy } };
}

async function getOrUndefined<T extends KubernetesObject>(
  biz: KubeClient,
  type: ResourceType<T>,
  ref: { namespace?: string; name: string },
): Promise<T | undefined> {
  try {
    return await biz.get(type, ref);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

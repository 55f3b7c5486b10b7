import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { Labels } from '@kok/api';
import { canonicalJson } from '@kok/reconcile';

/** Who manages the add-ons' objects (their app.kubernetes.io/managed-by). */
export const ADDON_MANAGER = 'kube-on-kube-operator';

/** Where the add-ons run in the biz-cluster. */
export const ADDON_NAMESPACE = 'kube-system';

/** On every object of an add-on: which one, and that this operator manages it. */
export const ADDON_LABEL = 'clusters.kok.dev/addon';

export function addonLabels(addon: string): Record<string, string> {
  return { [ADDON_LABEL]: addon, [Labels.managedBy]: ADDON_MANAGER };
}

/** True for an object this operator made for add-on `addon`: only those are ever deleted. */
export function isOwnAddonObject(obj: KubernetesObject, addon: string): boolean {
  const labels = obj.metadata?.labels ?? {};
  return labels[ADDON_LABEL] === addon && labels[Labels.managedBy] === ADDON_MANAGER;
}

/** On a pod template: its ConfigMap's content, so that a change of it rolls the pods. */
export function configHashAnnotation(config: V1ConfigMap): Record<string, string> {
  const hash = createHash('sha256')
    .update(canonicalJson(config.data ?? {}))
    .digest('hex')
    .slice(0, 16);
  return { 'clusters.kok.dev/config-hash': hash };
}

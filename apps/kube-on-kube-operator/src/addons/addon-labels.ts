import { Labels } from '@kok/api';
import { OPERATOR_NAME } from '../names.ts';

/** Where the add-ons run in the biz-cluster. */
export const ADDON_NAMESPACE = 'kube-system';

/** On every object of an add-on: which one, and that this operator manages it. */
export const ADDON_LABEL = 'clusters.kok.dev/addon';

export function addonLabels(addon: string): Record<string, string> {
  return { [ADDON_LABEL]: addon, [Labels.managedBy]: OPERATOR_NAME };
}

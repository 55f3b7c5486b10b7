/** The PKI Secrets: CAs, service-account keys, certificates and kubeconfigs (see certificates.ts). */
import { CLUSTER_COMPONENTS } from '@kok/api';
import type { V1Secret } from '@kubernetes/client-node';
import { templateHashDiffers } from '../template-hash.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { objectsStatus, ownedMetadata } from './component.ts';

function render(ctx: RenderContext): V1Secret[] | undefined {
  return ctx.pki?.secrets.map((secret) => {
    const metadata = ownedMetadata(ctx, secret.metadata?.name ?? '', 'pki');
    return { ...secret, metadata: { ...metadata, annotations: { ...secret.metadata?.annotations } } };
  });
}

export const pki: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.pki,
  label: 'pki',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired) => objectsStatus('Secrets', observed, desired, templateHashDiffers),
};

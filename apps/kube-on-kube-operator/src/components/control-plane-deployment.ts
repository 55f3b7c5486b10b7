/** The Deployment shape kube-apiserver, kube-controller-manager and kube-scheduler share. */
import type { V1Deployment, V1EnvVar, V1Probe } from '@kubernetes/client-node';
import { kubeImage, pinnedImage } from '@kok/api';
import type { ComponentSettings } from '../cluster-spec.ts';
import type { ComponentLabel } from '../names.ts';
import { clusterLabels, selectorLabels } from '../names.ts';
import { TEMPLATE_HASH_ANNOTATION, withTemplateHash } from '../template-hash.ts';
import type { RenderContext } from './component.ts';
import { ownedMetadata } from './component.ts';
import type { SecretFile } from './pod-template.ts';
import {
  CONTROL_PLANE_POD_SECURITY,
  PKI_DIR,
  resourcesOf,
  rollingUpdate,
  secretFiles,
  spreadOverNodes,
} from './pod-template.ts';

export interface ControlPlaneDeployment {
  name: string;
  component: ComponentLabel & ('kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler');
  version: string;
  settings: ComponentSettings;
  args: string[];
  env?: V1EnvVar[];
  /** How long the kubelet waits after SIGTERM before SIGKILL; Kubernetes' 30 s when not set. */
  terminationGracePeriodSeconds?: number;
  port: { name: string; containerPort: number };
  probes: { startupProbe: V1Probe; livenessProbe: V1Probe; readinessProbe: V1Probe };
  /** Files under /etc/kubernetes/pki. */
  files: readonly SecretFile[];
  hash: string;
}

export function controlPlaneDeployment(ctx: RenderContext, d: ControlPlaneDeployment): V1Deployment {
  const { names } = ctx;
  const replicas = d.settings.replicas;
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: ownedMetadata(ctx, d.name, d.component),
    spec: {
      replicas,
      selector: { matchLabels: selectorLabels(names.cluster, d.component) },
      strategy: rollingUpdate(replicas),
      template: {
        metadata: {
          labels: clusterLabels(names.cluster, d.component),
          annotations: { [TEMPLATE_HASH_ANNOTATION]: d.hash },
        },
        spec: {
          // The control plane of a biz-cluster has no business with the meta-cluster's API.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { ...CONTROL_PLANE_POD_SECURITY },
          affinity: spreadOverNodes(names.cluster, d.component),
          ...(d.terminationGracePeriodSeconds !== undefined
            ? { terminationGracePeriodSeconds: d.terminationGracePeriodSeconds }
            : {}),
          containers: [
            {
              name: d.component,
              image: pinnedImage(kubeImage(d.component, d.version), ctx.imageDigests),
              command: [d.component],
              args: d.args,
              ...(d.env ? { env: d.env } : {}),
              ports: [{ ...d.port, protocol: 'TCP' }],
              ...d.probes,
              ...(d.settings.resources ? { resources: resourcesOf(d.settings.resources) } : {}),
              volumeMounts: [{ name: 'pki', mountPath: PKI_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'pki', projected: secretFiles(d.files) }],
        },
      },
    },
  };
  return withTemplateHash(deployment, d.hash);
}

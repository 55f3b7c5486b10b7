// Test fixtures: a Cluster and a render context with real PKI material.
import type { ClusterSpec } from '@kok/api';
import { pkiSpecs } from '../pki/certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import type { PkiMaterial } from '../pki/pki-material.ts';
import { ensurePki } from '../pki/pki-material.ts';
import type { RenderContext } from './component.ts';

export const OWNER = {
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'Cluster',
  name: 'prod',
  uid: '5f0c8a4e-1111-2222-3333-444455556666',
  controller: true,
  blockOwnerDeletion: true,
};

export const APISERVER_CLUSTER_IP = '10.0.0.42';

let material: PkiMaterial | undefined;

/** A render context for Cluster `prod` in `fleet`; the PKI is made once per test file. */
export async function renderContext(spec: Partial<ClusterSpec> = {}): Promise<RenderContext> {
  const cluster = resolveCluster({
    metadata: { name: 'prod', namespace: 'fleet' },
    spec: { version: 'v1.36.3', ...spec },
  });
  const names = clusterNames('fleet', 'prod');
  const endpoint = endpointOf(cluster, names, undefined);
  material ??= await ensurePki(
    pkiSpecs({ cluster, names, endpoint, apiServerClusterIP: APISERVER_CLUSTER_IP }),
    new Map(),
  );
  return { cluster, names, owner: OWNER, endpoint, pki: material };
}

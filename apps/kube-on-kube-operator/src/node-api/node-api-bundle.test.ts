import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { APISERVER_KUBELET_CLIENT_USER, pkiSpecs } from '../pki/certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { agentAccessObjects } from './agent-access.ts';
import { CLUSTER_ADMINS_BINDING, clusterAdminsBinding, nodeOperatorAccessObjects } from './biz-access.ts';
import { bundleTypeOf, clusterAccessBundle, nodeApiBundle } from './node-api-bundle.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const documents = (path: string) =>
  parseAllDocuments(readFileSync(join(repositoryRoot, path), 'utf8')).map(
    (d) => d.toJS() as KubernetesObject,
  );
const byKindAndName = (a: KubernetesObject, b: KubernetesObject) =>
  `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`);

describe('the node API bundle', () => {
  it('holds the node agents access exactly as apps/node-agent/deploy declares it', () => {
    const declared = [
      ...documents('apps/node-agent/deploy/rbac.yaml'),
      ...documents('apps/node-agent/deploy/admission-policy.yaml'),
    ];
    expect([...agentAccessObjects].sort(byKindAndName)).toEqual(declared.sort(byKindAndName));
  });

  it('holds every nodes.kok.dev CRD exactly as committed in crds/, and no clusters.kok.dev one', () => {
    const committed = readdirSync(join(repositoryRoot, 'crds'))
      .filter((file) => file.startsWith('nodes.kok.dev_'))
      .flatMap((file) => documents(join('crds', file)));
    const { objects, crdNames } = nodeApiBundle();
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(committed.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(JSON.stringify(crds)).sort(byKindAndName)).toEqual(committed.sort(byKindAndName));
    expect([...crdNames].sort()).toEqual(committed.map((c) => c.metadata?.name).sort());
    expect(crdNames).toContain('machines.nodes.kok.dev');
  });

  it('lets real kubelets join by TLS bootstrap and the apiserver reach them as its kubelet client certificate says', () => {
    const bindings = nodeApiBundle().objects.filter(
      (o) => o.kind === 'ClusterRoleBinding',
    ) as (KubernetesObject & {
      roleRef: { name: string };
      subjects: { kind: string; name: string }[];
    })[];
    const grants = Object.fromEntries(
      bindings.map((b) => [b.roleRef.name, b.subjects.map((s) => `${s.kind}:${s.name}`)]),
    );
    expect(grants).toMatchObject({
      'system:node-bootstrapper': ['Group:system:bootstrappers'],
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient': ['Group:system:bootstrappers'],
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient': ['Group:system:nodes'],
      'system:kubelet-api-admin': [`User:${APISERVER_KUBELET_CLIENT_USER}`],
    });
    // The user granted kubelet access is the one the apiserver's kubelet client certificate names.
    const cluster = resolveCluster({
      metadata: { name: 'prod', namespace: 'fleet' },
      spec: { version: 'v1.36.3' },
    });
    const names = clusterNames('fleet', 'prod');
    const kubeletClient = pkiSpecs({ cluster, names, endpoint: endpointOf(cluster, names, undefined) }).find(
      (spec) => spec.secretName === names.secrets.apiServerKubeletClient,
    );
    expect(kubeletClient).toMatchObject({ kind: 'certificate', commonName: APISERVER_KUBELET_CLIENT_USER });
  });

  it('is applied in an order the apiserver accepts: CRDs, a namespace before its contents, a policy before its binding', () => {
    const order = nodeApiBundle().objects.map((o) => o.kind ?? '');
    const first = (kind: string) => order.indexOf(kind);
    const last = (kind: string) => order.lastIndexOf(kind);
    expect(last('CustomResourceDefinition')).toBeLessThan(first('ValidatingAdmissionPolicy'));
    expect(first('Namespace')).toBeLessThan(first('Role'));
    // The one RoleBinding is the node-operator's Lease; each agent's comes from the node-operator, per Machine.
    expect(order.filter((kind) => kind === 'RoleBinding')).toHaveLength(1);
    expect(first('Role')).toBeLessThan(first('RoleBinding'));
    expect(first('ValidatingAdmissionPolicy')).toBeLessThan(first('ValidatingAdmissionPolicyBinding'));
    expect(first('ClusterRole')).toBeLessThan(first('ClusterRoleBinding'));
  });

  it("installs the node-operator's role and the admin kubeconfig's binding with the node API; with the node-operator disabled, the admin binding alone", () => {
    const names = (objects: readonly KubernetesObject[]) =>
      objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    const full = names(nodeApiBundle().objects);
    for (const obj of [...nodeOperatorAccessObjects, clusterAdminsBinding])
      expect(full).toContain(`${obj.kind}/${obj.metadata?.name}`);
    const access = clusterAccessBundle();
    expect(names(access.objects)).toEqual([`ClusterRoleBinding/${CLUSTER_ADMINS_BINDING}`]);
    expect(access.crdNames).toEqual([]);
    expect(access.hash).not.toBe(nodeApiBundle().hash);
  });

  it('knows the REST type of every object it holds, and its hash is a function of its content', () => {
    const bundle = nodeApiBundle();
    for (const obj of [...bundle.objects, ...clusterAccessBundle().objects])
      expect(bundleTypeOf(obj).kind).toBe(obj.kind);
    expect(nodeApiBundle().hash).toBe(bundle.hash);
    expect(bundle.hash).toMatch(/^[0-9a-f]{16}$/);
  });
});

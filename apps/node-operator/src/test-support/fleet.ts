// Test helpers: CRDs, kwok Nodes and Machines on the shared control plane, scoped by one label per test.
import type {} from '@kok/testing/global-setup';
import {
  ComponentResource,
  customResourceDefinition,
  MachineResource,
  NodePoolResource,
  templateRevision,
} from '@kok/api';
import type { Component, Machine, NodePool, NodePoolTemplate } from '@kok/api';
import { builtinTypes, isNotFound, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { eventually as pollUntil, kwokNodeAnnotation } from '@kok/testing';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { componentType, machineType, nodePoolType } from '../shared/resources.ts';

export const SCOPE_LABEL = 'kok-test-scope';

const crdType = resourceType<
  KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);

export function testClient(fieldManager = 'kok-test'): KubeClient {
  return new KubeClient(sharedKubeConfig(), { fieldManager, qps: 200, burst: 400 });
}

/** Every version kubeletTemplate is called with: the shared `kubelet` catalog entry lists them. */
export const KUBELET_TEST_VERSIONS = ['v1.36.0', 'v1.36.1', 'v1.36.2', 'v1.36.3', 'v1.36.4'] as const;

/**
 * Installs the Machine, NodePool and Component CRDs and the shared `kubelet`
 * catalog entry kubeletTemplate names (server-side apply, so parallel test
 * files may all do it): the node-operator rolls out only what the catalog offers.
 */
export async function installCrds(client: KubeClient): Promise<void> {
  const resources = [MachineResource, NodePoolResource, ComponentResource];
  for (const resource of resources) {
    const crd = customResourceDefinition(resource) as unknown as KubernetesObject;
    await client.apply(crdType, crd);
  }
  await eventually('CRDs established', async () => {
    for (const resource of resources) {
      const crd = await client.get(crdType, { name: `${resource.plural}.${resource.group}` });
      if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
    }
    await client.list(machineType, { limit: 1 });
    await client.list(nodePoolType, { limit: 1 });
    await client.list(componentType, { limit: 1 });
    return true;
  });
  await client.apply(componentType, testComponent('kubelet', KUBELET_TEST_VERSIONS));
}

/** A Binary catalog entry offering `versions` (the agent simulator downloads nothing). */
export function testComponent(
  name: string,
  versions: readonly string[],
  labels: Record<string, string> = {},
): Component & KubernetesObject {
  return {
    apiVersion: componentType.apiVersion,
    kind: componentType.kind,
    metadata: { name, labels },
    spec: {
      versions: versions.map((version) => ({
        version,
        artifact: { url: `https://artifacts.invalid/${name}/${version}`, sha256: '0'.repeat(64) },
      })),
      install: { method: 'Binary', path: `/usr/local/bin/${name}` },
    },
  };
}

/** Polls `check` until truthy; fails naming `what` (and the last error) after `timeoutMs` (default 60 s). */
export const eventually: typeof pollUntil = (what, check, timeoutMs = 60_000) =>
  pollUntil(what, check, timeoutMs);

export interface Fleet {
  scope: string;
  pool: string;
  machines: string[];
  selector: string;
}

/**
 * `count` kwok Nodes (Ready, managed by kwok through its annotation) and one
 * Machine per Node, already told and (per the simulated agent) running
 * `template`'s revision, all labelled with a fresh scope.
 */
export async function createFleet(
  client: KubeClient,
  count: number,
  template: NodePoolTemplate,
): Promise<Fleet> {
  const scope = uniqueName('t');
  const pool = `pool-${scope}`;
  const machines = Array.from({ length: count }, (_, i) => `${scope}-m${i}`);
  const labels = { [SCOPE_LABEL]: scope };
  await Promise.all(
    machines.map(async (name) => {
      await client.create(builtinTypes.node, {
        metadata: {
          name,
          labels: { ...labels, 'kubernetes.io/hostname': name, type: 'kwok' },
          annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value },
        },
      } as V1Node);
      await client.create(machineType, {
        apiVersion: machineType.apiVersion,
        kind: machineType.kind,
        metadata: { name, labels },
        spec: {
          pool,
          revision: templateRevision(template),
          ...(template.components ? { components: template.components } : {}),
        },
      } as Machine & KubernetesObject);
    }),
  );
  await eventually('kwok Nodes Ready', async () => {
    const { items } = await client.list(builtinTypes.node, { labelSelector: `${SCOPE_LABEL}=${scope}` });
    return (
      items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .length === count
    );
  });
  return { scope, pool, machines, selector: `${SCOPE_LABEL}=${scope}` };
}

export async function createPool(client: KubeClient, fleet: Fleet, spec: NodePool['spec']): Promise<void> {
  await client.create(nodePoolType, {
    apiVersion: nodePoolType.apiVersion,
    kind: nodePoolType.kind,
    metadata: { name: fleet.pool, labels: { [SCOPE_LABEL]: fleet.scope } },
    spec,
  } as NodePool & KubernetesObject);
}

/** Deletes the pool, Machines (their finalizer dropped: no operator may be left to release them) and Nodes. */
export async function deleteFleet(client: KubeClient, fleet: Fleet): Promise<void> {
  const gone = (error: unknown) => {
    if (!isNotFound(error)) throw error;
  };
  // A test may have deleted the pool itself.
  await client.delete(nodePoolType, { name: fleet.pool }).catch(gone);
  await Promise.all(
    fleet.machines.flatMap((name) => [
      client
        .patch(machineType, { name }, PatchType.merge, { metadata: { finalizers: null } })
        .then(() => client.delete(machineType, { name }))
        .catch(gone),
      client.delete(builtinTypes.node, { name }).catch(gone),
    ]),
  );
}

export function kubeletTemplate(version: string): NodePoolTemplate {
  return { components: [{ name: 'kubelet', version }] };
}

export { uniqueName };

/** A pod bound to `node` that tolerates everything: kwok runs it, and a drain must evict it. */
export function podOn(namespace: string, name: string, node: string, labels: Record<string, string>): V1Pod {
  return {
    metadata: { namespace, name, labels },
    spec: {
      nodeName: node,
      containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
      tolerations: [{ operator: 'Exists' }],
    },
  };
}

/**
 * A NodePool of real hosts for a cluster that runs already: the host catalog
 * as Components, the pool at the catalog's oldest kubelet, and one Machine per
 * host, each host booted the way a provisioner boots it (host-fleet.ts). Used
 * by the local stack and by the e2e suite for a kube-on-kube biz-cluster.
 */
import type { ComponentSpec, MachineObject, NodePoolObject, NodePoolSpec, NodePoolTemplate } from '@kok/api';
import { componentType, coreDnsVersionFor, machineType, nodePoolType, templateRevision } from '@kok/api';
import type { KubeClient } from '@kok/reconcile';
import { startHostFleet } from './host-fleet.ts';
import type { HostFleet } from './host-fleet.ts';
import type { HostRig } from './host-rig.ts';
import { realHostDisruptionPolicy, realHostTemplate } from './node-software.ts';

export interface RealHostPoolOptions {
  readonly rig: HostRig;
  /** The cluster the hosts join: Components, the NodePool and the Machines are made there. */
  readonly client: KubeClient;
  /** Its apiserver URL as the hosts dial it (on the rig's gateway), and the CA of its serving certificate. */
  readonly server: string;
  readonly certificateAuthorityPem: string;
  readonly pool: string;
  readonly machines: readonly string[];
  /** The cluster's version: the kube-proxy image the hosts import, and the CoreDNS it pairs. */
  readonly clusterVersion: string;
  readonly rollout: NodePoolSpec['rollout'];
  /** See NodeSoftwareOptions.kubeProxyAliases. */
  readonly kubeProxyAliases?: Readonly<Record<string, string>>;
}

export interface RealHostPool {
  readonly fleet: HostFleet;
  /** Kubelet versions of the catalog, oldest first; the pool starts at the first. */
  readonly kubeletVersions: readonly string[];
  /** The pool's template at a kubelet version of the catalog. */
  template(kubelet: string): NodePoolTemplate;
}

/** Makes the catalog, the pool and its Machines, and boots every host; the caller closes `fleet`. */
export async function startRealHostPool(options: RealHostPoolOptions): Promise<RealHostPool> {
  const { rig, client } = options;
  const fleet = await startHostFleet({
    rig,
    client,
    server: options.server,
    certificateAuthorityPem: options.certificateAuthorityPem,
    ...(options.kubeProxyAliases ? { kubeProxyAliases: options.kubeProxyAliases } : {}),
  });
  try {
    await createComponents(client, fleet.software.components);
    const coreDns = coreDnsVersionFor(options.clusterVersion);
    const template = (kubelet: string): NodePoolTemplate =>
      realHostTemplate({
        kubelet,
        containerd: fleet.versions.containerd[0] as string,
        imageVersions: fleet.software.imageVersions,
        // The add-ons the operator deploys: kube-proxy at the cluster's version, CoreDNS at the one it pairs.
        kubeProxy: options.clusterVersion,
        ...(coreDns ? { coreDns } : {}),
        cgroupParent: rig.cgroupParent,
        nodeProblemDetector: fleet.versions.nodeProblemDetector,
      });
    const first = template(fleet.versions.kubelet[0] as string);
    await createNodePool(client, options.pool, first, {
      rollout: options.rollout,
      drain: { timeoutSeconds: 300 },
      disruptionPolicy: realHostDisruptionPolicy(),
    });
    for (const name of options.machines) {
      await createMachine(client, {
        name,
        pool: options.pool,
        template: first,
        address: fleet.nextAddress(),
      });
      await fleet.addHost(name);
    }
    return { fleet, kubeletVersions: fleet.versions.kubelet, template };
  } catch (error) {
    await fleet.close();
    throw error;
  }
}

/** One Component per catalog entry, named by its key. */
export async function createComponents(
  client: KubeClient,
  specs: Readonly<Record<string, ComponentSpec>>,
): Promise<void> {
  for (const [name, spec] of Object.entries(specs))
    await client.create(componentType, {
      apiVersion: componentType.apiVersion,
      kind: componentType.kind,
      metadata: { name },
      spec,
    });
}

export async function createNodePool(
  client: KubeClient,
  name: string,
  template: NodePoolTemplate,
  spec: Omit<NodePoolSpec, 'template'>,
): Promise<void> {
  await client.create(nodePoolType, {
    apiVersion: nodePoolType.apiVersion,
    kind: nodePoolType.kind,
    metadata: { name },
    spec: { template, ...spec },
  } as NodePoolObject);
}

/**
 * A Machine as an installer leaves it: told its pool's revision, the template's software, and the host's
 * address if it has one; the host boots with nothing but the node-agent.
 */
export async function createMachine(
  client: KubeClient,
  machine: {
    readonly name: string;
    readonly pool: string;
    readonly template: NodePoolTemplate;
    readonly address?: string | undefined;
  },
): Promise<void> {
  await client.create(machineType, {
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name: machine.name },
    spec: {
      pool: machine.pool,
      revision: templateRevision(machine.template),
      ...machine.template,
      ...(machine.address ? { address: machine.address } : {}),
    },
  } as MachineObject);
}

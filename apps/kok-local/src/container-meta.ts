/**
 * The meta-cluster side of the stack where Clusters' control planes run as
 * real containers: a meta-cluster whose Nodes are two real hosts of the host
 * rig, kok's images packed here and imported on them, CoreDNS and kube-proxy,
 * and the kube-on-kube-operator installed by helm from its chart, running as
 * containers of its image (@kok/container-meta).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageToImport } from '@kok/container-meta';
import { pinnedImageInputs, RealContainerMeta } from '@kok/container-meta';
import { CONTROL_PLANE_BINARIES } from '@kok/images';
import type { MetaSide, StackSteps } from './stack-steps.ts';
import { STACK_NAMESPACE } from './stack-names.ts';

const META_HOSTS = ['meta-0', 'meta-1'] as const;
const RELEASE = 'kok';
const RELEASE_NAMESPACE = 'kok-system';

export async function startContainerMeta(stateDir: string, steps: StackSteps): Promise<MetaSide> {
  const { step, onStop } = steps;
  const inputs = pinnedImageInputs();
  const images: ImageToImport[] = [
    ...CONTROL_PLANE_BINARIES.map((name) => ({ name, inputs })),
    { name: 'kube-on-kube-operator', inputs },
    { name: 'node-operator', inputs },
  ];
  const meta = await RealContainerMeta.start(images);
  onStop('the meta-cluster (its hosts and every container on them, its rig, its control plane)', () =>
    meta.stop(),
  );
  const { controlPlane, rig } = meta.cluster;
  const metaKubeconfigPath = join(stateDir, 'meta.kubeconfig');
  copyFileSync(controlPlane.kubeconfigPath, metaKubeconfigPath);
  step(
    `meta-cluster control plane up; images packed without Docker: ${images.map((i) => i.name).join(', ')} ` +
      `(Kubernetes ${inputs.kubernetesVersion})`,
  );

  await meta.joinHosts(META_HOSTS);
  step(
    `meta-cluster Nodes ${META_HOSTS.join(', ')} Ready: real hosts (containerd, runc, kubelet ` +
      `${meta.cluster.versions.kubelet.at(-1)}), joined by TLS bootstrap, every image imported`,
  );

  await meta.deployAddons(META_HOSTS.length);
  step('meta-cluster add-ons Ready: CoreDNS, and kube-proxy on every Node (the Clusters’ Services)');

  await meta.installOperatorChart({
    namespace: STACK_NAMESPACE,
    etcdVolumeHost: META_HOSTS[1],
    release: RELEASE,
    releaseNamespace: RELEASE_NAMESPACE,
  });
  step(
    `kube-on-kube-operator installed by helm (release ${RELEASE} in ${RELEASE_NAMESPACE}): ` +
      `its replicas Ready as containers of ${meta.references.get('kube-on-kube-operator')}`,
  );

  return {
    kind: 'containers',
    metaConfig: controlPlane.kubeConfig,
    metaKubeconfigPath,
    binDir: controlPlane.binDir,
    // The apiserver pods' addresses live in the meta hosts' namespaces: the machine reaches their Nodes.
    reach: 'node-port',
    apiServerServiceType: 'NodePort',
    version: inputs.kubernetesVersion,
    logsWhere: `the meta hosts' kubelet and containerd logs and pod logs under ${join(rig.dir, 'hosts')}`,
    runsAs: `real containers on the meta-cluster's hosts`,
  };
}

/**
 * What `kok up` prints once the stack runs: how to reach both clusters and
 * try a rollout. Pure, so a test can hold the commands to what works.
 */
import { join } from 'node:path';
import { Annotations } from '@kok/api';
import type { NodePoolTemplate } from '@kok/api';

export interface InstructionsInput {
  /** The repository root: its node_modules/.bin holds the pinned Node.js and kubectl-kok. */
  readonly repositoryRoot: string;
  /** kubectl and the other control-plane binaries. */
  readonly binDir: string;
  readonly metaKubeconfigPath: string;
  readonly bizKubeconfigPath: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly pool: string;
  readonly stateDir: string;
  /** Where the Cluster's control plane runs. */
  readonly controlPlane: 'containers' | 'processes';
  /** Where the operator writes the Cluster's etcd snapshots, where it does. */
  readonly etcdSnapshotDir?: string;
  /** Where the logs are, for people. */
  readonly logsWhere: string;
  readonly hostsWhere: string;
  /** Kubelet versions of the catalog, oldest first (the pool runs the first). */
  readonly kubeletVersions: readonly string[];
  readonly template: (kubelet: string) => NodePoolTemplate;
  readonly seconds: string;
  /** `--state-dir …` when `kok up` was given one, so the printed `kok status` and `kok down` find this stack. */
  readonly stateDirOption?: string;
}

/**
 * The PATH line to paste. The repository's node_modules/.bin comes first:
 * it holds the pinned Node.js 24 and `kubectl-kok`, whose shim refuses an
 * older node, and a system Node.js 20 must not shadow it.
 */
export function pathExportLine(repositoryRoot: string, binDir: string): string {
  return `export PATH=${[join(repositoryRoot, 'node_modules/.bin'), binDir].join(':')}:$PATH`;
}

export function upInstructions(input: InstructionsInput): string {
  const meta = input.metaKubeconfigPath;
  const biz = input.bizKubeconfigPath;
  const { cluster, namespace, pool } = input;
  const option = input.stateDirOption ? ` ${input.stateDirOption}` : '';
  return `
kok is up in ${input.seconds}s.

  ${pathExportLine(input.repositoryRoot, input.binDir)}

The meta-cluster (Clusters; the control plane of "${cluster}" runs as ${input.controlPlane === 'containers' ? "real containers on the meta-cluster's real hosts" : 'local processes'}):

  kubectl --kubeconfig ${meta} get clusters -A
  kubectl --kubeconfig ${meta} get pods -n ${namespace} -o wide
  kubectl kok --kubeconfig ${meta} cluster get ${cluster} -n ${namespace}

The biz-cluster "${cluster}" (its apiserver, through a local proxy; Machines and NodePools):

  kubectl --kubeconfig ${biz} get nodes,machines,nodepools
  kubectl kok --kubeconfig ${biz} nodepool status ${pool}

A canary rollout of the next kubelet (one machine first, then it pauses):

  kubectl --kubeconfig ${biz} patch nodepool ${pool} --type json \\
    -p '${kubeletPatch(input)}'
  kubectl kok --kubeconfig ${biz} nodepool status ${pool} --watch
  kubectl kok --kubeconfig ${biz} nodepool resume ${pool}

${snapshots(input)}Logs: ${input.logsWhere}; ${input.hostsWhere}.
What runs: \`npx kok status${option}\`. Stop: Ctrl-C here, or \`npx kok down${option}\`${option ? '' : ' (`npm run kok:stop`)'} from another terminal.
`;
}

/** How to take an etcd snapshot of the Cluster, where the operator writes them. */
function snapshots(input: InstructionsInput): string {
  if (!input.etcdSnapshotDir) return '';
  const { cluster, namespace } = input;
  const meta = input.metaKubeconfigPath;
  return `etcd snapshots of "${cluster}" (one an hour, the newest 3 kept, in ${join(input.etcdSnapshotDir, namespace, cluster)}); one now:

  kubectl --kubeconfig ${meta} annotate cluster ${cluster} -n ${namespace} ${Annotations.etcdSnapshotRequest}=$(date +%s) --overwrite
  kubectl --kubeconfig ${meta} get cluster ${cluster} -n ${namespace} -o jsonpath='{.status.etcd.lastSnapshot}'

`;
}

/** A JSON patch that moves the pool's kubelet to the next version of the catalog. */
function kubeletPatch(input: InstructionsInput): string {
  const next = input.kubeletVersions[1] ?? input.kubeletVersions[0];
  const index = input.template(next ?? '').components?.findIndex((c) => c.name === 'kubelet') ?? -1;
  return JSON.stringify([{ op: 'replace', path: `/spec/template/components/${index}/version`, value: next }]);
}

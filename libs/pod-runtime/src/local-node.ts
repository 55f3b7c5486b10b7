/**
 * The Node the runtime stands behind. It carries no kwok annotation, so kwok
 * leaves it and its pods alone; the runtime keeps its Ready condition fresh
 * the way a kubelet does, so the node lifecycle controller does not evict.
 */
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** The label on the runtime's Node; select on it (or its name) to send pods there. */
export const localRuntimeNodeLabel = { key: 'kok.dev/local-runtime', value: 'true' } as const;

export function localNode(name: string): V1Node {
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        [localRuntimeNodeLabel.key]: localRuntimeNodeLabel.value,
      },
    },
  };
}

export function readyNodeStatus(now: Date, kubeletVersion: string): V1Node['status'] {
  const condition = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: 'kok local pod runtime',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    phase: 'Running',
    conditions: [
      condition('Ready', 'True', 'KubeletReady'),
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    capacity: { cpu: '64', memory: '256Gi', pods: '250' },
    allocatable: { cpu: '64', memory: '256Gi', pods: '250' },
    nodeInfo: {
      architecture: 'amd64',
      operatingSystem: 'linux',
      kubeletVersion,
      kubeProxyVersion: '',
      containerRuntimeVersion: 'kok-local://0',
      kernelVersion: '',
      osImage: 'kok local pod runtime',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
}

/** Creates the Node when missing, then reports it Ready (again: this is the heartbeat). */
export async function registerAndHeartbeat(
  core: CoreV1Api,
  name: string,
  kubeletVersion: string,
): Promise<void> {
  try {
    await core.readNode({ name });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    await core.createNode({ body: localNode(name) });
  }
  await core.patchNodeStatus(
    { name, body: { status: readyNodeStatus(new Date(), kubeletVersion) } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

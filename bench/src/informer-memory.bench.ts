// Informer memory at 10,000 realistic Nodes (status with ~40 images, managedFields
// from two writers, as a kubelet and a node controller leave them): list+sync
// time, RSS and heap for our informer with and without the cache transform, and
// for @kubernetes/client-node's makeInformer, each in its own process.
// The headline is like for like: our informer holding full objects, as client-node's
// does. The transform (managedFields and Node images dropped) is reported apart, as
// what it saves over full objects in our own informer.
//   --nodes=<n>           fleet size (default 10000)
//   --settle-seconds=<n>  seconds of GC and idling before steady RSS is read (default 10)
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { startControlPlane } from '@kok/testing';
import { execFileSync } from 'node:child_process';
import { round } from './statistics.ts';

const nodeCount = Number(process.argv.find((a) => a.startsWith('--nodes='))?.split('=')[1] ?? 10_000);
const settleSeconds = Number(
  process.argv.find((a) => a.startsWith('--settle-seconds='))?.split('=')[1] ?? 10,
);
const concurrency = 64;

// Plain JSON as it goes over the wire (client-node's types model timestamps as Date).
function realisticStatus(index: number): Record<string, unknown> {
  const now = new Date().toISOString();
  const images = Array.from({ length: 40 }, (_, i) => ({
    names: [
      `registry.example.com/team-${i % 7}/service-${i}@sha256:${(index * 40 + i).toString(16).padStart(64, '0')}`,
      `registry.example.com/team-${i % 7}/service-${i}:v1.${i}.${index % 10}`,
    ],
    sizeBytes: 10_000_000 + i * 123_457,
  }));
  const condition = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: `kubelet has ${reason}`,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    conditions: [
      condition('Ready', 'True', 'KubeletReady'),
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
    ],
    addresses: [
      { type: 'InternalIP', address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` },
      { type: 'Hostname', address: `node-${index}` },
    ],
    capacity: { cpu: '64', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' },
    allocatable: { cpu: '63', memory: '250Gi', pods: '110', 'ephemeral-storage': '900Gi' },
    nodeInfo: {
      architecture: 'amd64',
      bootID: `boot-${index}`,
      containerRuntimeVersion: 'containerd://2.1.4',
      kernelVersion: '6.8.0-45-generic',
      kubeProxyVersion: '',
      kubeletVersion: 'v1.36.3',
      machineID: `machine-${index}`,
      operatingSystem: 'linux',
      osImage: 'Ubuntu 24.04.1 LTS',
      systemUUID: `uuid-${index}`,
    },
    images,
  };
}

async function createFleet(client: KubeClient): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < nodeCount) {
      const index = next++;
      const name = `node-${index}`;
      await client.create(builtinTypes.node, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            'kubernetes.io/hostname': name,
            'topology.kubernetes.io/zone': `zone-${index % 3}`,
            'nodes.kok.dev/pool': `pool-${index % 5}`,
          },
        },
        spec: { podCIDR: `10.244.${index % 256}.0/24` },
      });
      await client.mergePatchStatus(builtinTypes.node, { name }, { status: realisticStatus(index) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface WorkerResult {
  mode: string;
  objects: number;
  syncSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
  heapUsedMiB: number;
  rssDeltaMiB: number;
  heapDeltaMiB: number;
}

function measure(mode: string, kubeconfigPath: string): WorkerResult {
  const worker = new URL('./informer-memory-worker.ts', import.meta.url).pathname;
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', worker, mode, kubeconfigPath, String(settleSeconds)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  const result = JSON.parse(output.trim().split('\n').pop() as string) as WorkerResult;
  if (result.objects !== nodeCount) throw new Error(`${mode} cached ${result.objects} of ${nodeCount} nodes`);
  console.error(`${mode}: ${JSON.stringify(result)}`);
  return result;
}

const controlPlane = await startControlPlane({
  extraArgs: { apiServer: ['--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'] },
});
try {
  const began = performance.now();
  await createFleet(new KubeClient(controlPlane.kubeConfig, { qps: 5_000, burst: 5_000 }));
  console.error(`created ${nodeCount} nodes in ${round((performance.now() - began) / 1000)}s`);

  const withTransform = measure('kok-transform', controlPlane.kubeconfigPath);
  const withoutTransform = measure('kok-raw', controlPlane.kubeconfigPath);
  const clientNode = measure('client-node', controlPlane.kubeconfigPath);

  const figures = (result: WorkerResult) => ({
    syncSeconds: round(result.syncSeconds),
    rssMiB: round(result.rssMiB),
    peakRssMiB: round(result.peakRssMiB),
    heapUsedMiB: round(result.heapUsedMiB),
  });
  console.log(
    JSON.stringify({
      benchmark: 'informer-memory',
      nodes: nodeCount,
      kokNoTransform: figures(withoutTransform),
      clientNodeMakeInformer: figures(clientNode),
      // Like for like: both caches hold full objects.
      rssRatioKokToClientNode: round(withoutTransform.rssMiB / clientNode.rssMiB),
      // RSS includes the runtime and client-node's own footprint (~160 MiB before any list);
      // the deltas and the heap isolate what the cache itself holds.
      rssDeltaRatioKokToClientNode: round(withoutTransform.rssDeltaMiB / clientNode.rssDeltaMiB),
      heapRatioKokToClientNode: round(withoutTransform.heapDeltaMiB / clientNode.heapDeltaMiB),
      peakRssRatioKokToClientNode: round(withoutTransform.peakRssMiB / clientNode.peakRssMiB),
      // What the cache transform saves in our own informer; client-node has no such option.
      transform: {
        dropped: 'metadata.managedFields, Node status.images',
        kokTransform: figures(withTransform),
        rssRatioToNoTransform: round(withTransform.rssMiB / withoutTransform.rssMiB),
        heapRatioToNoTransform: round(withTransform.heapDeltaMiB / withoutTransform.heapDeltaMiB),
      },
      targets: { rssRatio: 0.5, syncSeconds: 10 },
    }),
  );
} finally {
  await controlPlane.stop();
}

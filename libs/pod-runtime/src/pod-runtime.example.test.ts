// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { eventually, startControlPlane, type ControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/pod-runtime'.
import { LocalPodRuntime } from './index.ts';

const etcdPod: V1Pod = {
  metadata: { name: 'etcd', namespace: 'default' },
  spec: {
    nodeName: 'kok-local-runtime', // what the scheduler would write: the runtime's own Node
    automountServiceAccountToken: false, // token projections are not among the volumes it supports
    containers: [
      {
        name: 'etcd',
        image: 'registry.k8s.io/etcd:3.6.16-0', // runs <binDir>/etcd
        command: ['etcd'],
        args: [
          '--data-dir=/var/lib/etcd', // under the volume's mountPath: rewritten to a local dir
          '--listen-client-urls=http://0.0.0.0:2379', // the wildcard becomes the pod's own address
          '--advertise-client-urls=http://0.0.0.0:2379',
          '--listen-peer-urls=http://0.0.0.0:2380',
        ],
        readinessProbe: { httpGet: { path: '/health', port: 2379 }, periodSeconds: 1 },
        volumeMounts: [{ name: 'data', mountPath: '/var/lib/etcd' }],
      },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
};

describe('a pod run for real on this machine', () => {
  let controlPlane: ControlPlane;
  let runtime: LocalPodRuntime;

  beforeAll(async () => {
    // The controller-manager creates the ServiceAccount every pod needs; no scheduler, no kubelet.
    controlPlane = await startControlPlane({ controllerManager: true });
    runtime = new LocalPodRuntime({ kubeConfig: controlPlane.kubeConfig, binDir: controlPlane.binDir });
    await runtime.start(); // registers the Node kok-local-runtime
  });

  afterAll(async () => {
    await runtime?.stop(); // stops every process it runs
    await controlPlane?.stop();
  });

  it('runs etcd from its image name, reports it Ready, and stops it when the pod is deleted', async () => {
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    await eventually('the pod to be accepted', () =>
      core.createNamespacedPod({ namespace: 'default', body: etcdPod }),
    );

    const pod = await eventually('the pod Ready', async () => {
      const current = await core.readNamespacedPod({ namespace: 'default', name: 'etcd' });
      const ready = current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && current;
    });
    const address = pod.status?.podIP;
    expect(address).toMatch(/^127\.\d+\.\d+\.\d+$/); // a loopback address of its own
    expect(await (await fetch(`http://${address}:2379/health`)).json()).toMatchObject({ health: 'true' });

    await core.deleteNamespacedPod({ namespace: 'default', name: 'etcd' });
    await eventually('the pod to be gone', async () =>
      core.readNamespacedPod({ namespace: 'default', name: 'etcd' }).then(
        () => false,
        () => true,
      ),
    );
    await expect(fetch(`http://${address}:2379/health`)).rejects.toThrow(); // its process stopped
  });
});
// end of example

it('is the example README.md shows', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});

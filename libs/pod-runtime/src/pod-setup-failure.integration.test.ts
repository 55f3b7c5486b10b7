// A pod the runtime cannot start: the ServiceAccount admission plugin gives it a projected token
// volume (automountServiceAccountToken left on), which the runtime does not support. It must keep
// one address and write its status once, not on every sync.
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { eventually, startControlPlane, type ControlPlane } from '@kok/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPodRuntime } from './local-pod-runtime.ts';

const namespace = 'default';
const name = 'token-volume';

let controlPlane: ControlPlane;
let runtime: LocalPodRuntime;

beforeAll(async () => {
  // The controller-manager creates the default ServiceAccount the admission plugin needs.
  controlPlane = await startControlPlane({ controllerManager: true });
  runtime = new LocalPodRuntime({ kubeConfig: controlPlane.kubeConfig, binDir: controlPlane.binDir });
  await runtime.start();
});

afterAll(async () => {
  await runtime?.stop();
  await controlPlane?.stop();
});

describe('a pod whose volume cannot be set up', () => {
  it('keeps one address, says why once, and is not rewritten while it waits', async () => {
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    const seen: V1Pod[] = [];
    const watch = await new Watch(controlPlane.kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { fieldSelector: `metadata.name=${name}` },
      (_phase, pod: V1Pod) => seen.push(pod),
      () => undefined,
    );
    try {
      const created = await eventually('the pod to be accepted', () =>
        core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name },
            spec: {
              nodeName: runtime.nodeName,
              containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.6.16-0', command: ['etcd'] }],
            },
          },
        }),
      );
      expect(
        created.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)),
      ).toBe(true);

      const waiting = await eventually('the status to say why the pod waits', async () => {
        const pod = await core.readNamespacedPod({ namespace, name });
        return pod.status?.containerStatuses?.[0]?.state?.waiting?.message && pod;
      });
      expect(waiting.status?.phase).toBe('Pending');
      expect(waiting.status?.containerStatuses?.[0]?.state?.waiting).toMatchObject({
        reason: 'ContainerCreating',
        message: expect.stringContaining('serviceAccountToken'),
      });

      // ~20 syncs: each one used to hand out a new address and write it.
      await sleep(10_000);
      const addresses = new Set(seen.flatMap((pod) => (pod.status?.podIP ? [pod.status.podIP] : [])));
      expect([...addresses]).toEqual([runtime.podIP(namespace, name)]);
      const versions = new Set(seen.map((pod) => pod.metadata?.resourceVersion));
      // Created and its one status write (one more of slack), where every sync used to write.
      expect(versions.size).toBeLessThanOrEqual(3);
    } finally {
      watch.abort();
    }

    await core.deleteNamespacedPod({ namespace, name });
    await eventually('the pod to be gone', async () =>
      core.readNamespacedPod({ namespace, name }).then(
        () => false,
        () => true,
      ),
    );
    expect(runtime.podIP(namespace, name)).toBeUndefined(); // its address is released
  });
});

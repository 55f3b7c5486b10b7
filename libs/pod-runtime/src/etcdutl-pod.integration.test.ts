// One-shot pods of the etcd image that run etcdutl (what an etcd restore runs per member): a pod
// whose container exits is not started again, and ends Succeeded or Failed with the container's
// exit code, a failed one with the tail of its log as message when it asks for it.
import { CoreV1Api, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { eventually, startControlPlane, type ControlPlane } from '@kok/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPodRuntime } from './local-pod-runtime.ts';

const namespace = 'default';

let controlPlane: ControlPlane;
let runtime: LocalPodRuntime;
let core: CoreV1Api;

beforeAll(async () => {
  // The controller-manager creates the default ServiceAccount every pod needs.
  controlPlane = await startControlPlane({ controllerManager: true });
  core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
  runtime = new LocalPodRuntime({ kubeConfig: controlPlane.kubeConfig, binDir: controlPlane.binDir });
  await runtime.start();
});

afterAll(async () => {
  await runtime?.stop();
  await controlPlane?.stop();
});

function etcdutlPod(name: string, container: Omit<V1Container, 'name' | 'image' | 'command'>): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      nodeName: runtime.nodeName,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      containers: [
        { name: 'etcdutl', image: 'registry.k8s.io/etcd:3.6.16-0', command: ['etcdutl'], ...container },
      ],
    },
  };
}

/** Creates the pod and waits until it succeeded or failed. */
async function completed(
  name: string,
  container: Omit<V1Container, 'name' | 'image' | 'command'>,
): Promise<V1Pod> {
  await eventually(`pod ${name} to be accepted`, () =>
    core.createNamespacedPod({ namespace, body: etcdutlPod(name, container) }),
  );
  return eventually(`pod ${name} to succeed or fail`, async () => {
    const pod = await core.readNamespacedPod({ namespace, name });
    return (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') && pod;
  });
}

describe('a pod of the etcd image whose command is etcdutl', () => {
  it('runs etcdutl once and succeeds when it exits 0', async () => {
    const pod = await completed('etcdutl-version', { args: ['version'] });
    expect(pod.status?.phase).toBe('Succeeded');
    const container = pod.status?.containerStatuses?.[0];
    expect(container?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(container?.state?.terminated).not.toHaveProperty('message');
    expect(container?.restartCount).toBe(0);
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });

    // Kept as it ended, not run again.
    await sleep(3000);
    const later = await core.readNamespacedPod({ namespace, name: 'etcdutl-version' });
    expect(later.status?.phase).toBe('Succeeded');
    expect(later.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(later.metadata?.resourceVersion).toBe(pod.metadata?.resourceVersion);
  });

  it('is deleted like any pod once it completed', async () => {
    await core.deleteNamespacedPod({ namespace, name: 'etcdutl-version' });
    await eventually('the completed pod to be gone', async () =>
      core.readNamespacedPod({ namespace, name: 'etcdutl-version' }).then(
        () => false,
        () => true,
      ),
    );
    // The apiserver removes a completed pod at once; the runtime lets go of it on its next look.
    await expect.poll(() => runtime.podIP(namespace, 'etcdutl-version')).toBeUndefined();
  });

  it("fails when it exits non-zero, with etcdutl's error as termination message", async () => {
    const pod = await completed('etcdutl-missing-snapshot', {
      args: ['snapshot', 'status', '/nonexistent.db'],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(pod.status?.phase).toBe('Failed');
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).not.toBe(0);
    expect(terminated?.reason).toBe('Error');
    expect(terminated?.message).toContain('/nonexistent.db');
    expect(terminated?.message).toMatch(/no such file or directory/);

    // A runtime started anew (a restarted kubelet) leaves a completed pod as it ended.
    await runtime.stop();
    runtime = new LocalPodRuntime({ kubeConfig: controlPlane.kubeConfig, binDir: controlPlane.binDir });
    await runtime.start();
    await sleep(3000);
    const later = await core.readNamespacedPod({ namespace, name: 'etcdutl-missing-snapshot' });
    expect(later.metadata?.resourceVersion).toBe(pod.metadata?.resourceVersion);
    expect(runtime.podIP(namespace, 'etcdutl-missing-snapshot')).toBeUndefined();
  });
});

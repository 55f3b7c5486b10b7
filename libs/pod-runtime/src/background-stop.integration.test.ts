// A pod that takes its time to stop does not hold up the others. Its process serves on for a while after
// SIGTERM, as kube-apiserver does with --shutdown-delay-duration; meanwhile the runtime starts, probes and
// reports a new pod, as a kubelet keeps syncing while one pod terminates. The stopping pod keeps its
// address (no new pod gets it) and its object until its process is gone.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { eventually, startControlPlane, type ControlPlane } from '@kok/testing';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPodRuntime } from './local-pod-runtime.ts';

const namespace = 'default';
const SHUTDOWN_DELAY_MS = 8_000;
const IMAGE = 'serves-after-sigterm';
const script = fileURLToPath(new URL('./test-support/serves-after-sigterm.ts', import.meta.url));

let controlPlane: ControlPlane;
let runtime: LocalPodRuntime;
let core: CoreV1Api;

beforeAll(async () => {
  // The controller-manager creates the default ServiceAccount pods need to be admitted.
  controlPlane = await startControlPlane({ controllerManager: true });
  runtime = new LocalPodRuntime({
    kubeConfig: controlPlane.kubeConfig,
    binDir: controlPlane.binDir,
    extraImages: { [IMAGE]: [process.execPath, script] },
  });
  await runtime.start();
  core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await runtime?.stop();
  await controlPlane?.stop();
});

function slowToStop(name: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeName: runtime.nodeName,
      automountServiceAccountToken: false,
      // Longer than the delay: the runtime waits for the process rather than kill it (it waits at most 10 s).
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'server',
          image: `example.test/${IMAGE}:1`,
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'SHUTDOWN_DELAY_MS', value: String(SHUTDOWN_DELAY_MS) },
          ],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

const readyPod = (name: string) =>
  eventually(`${name} Ready`, async () => {
    const pod = await core.readNamespacedPod({ namespace, name });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && pod;
  });

const answers = (ip: string) =>
  fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(2_000) }).then(
    (response) => response.ok,
    () => false,
  );

describe('a pod that serves on after SIGTERM', () => {
  it('is stopped beside the loop: a new pod starts and is Ready meanwhile, on another address', async () => {
    await eventually('the pod to be accepted', () =>
      core.createNamespacedPod({ namespace, body: slowToStop('old') }),
    );
    const oldIP = (await readyPod('old')).status?.podIP ?? '';
    expect(await answers(oldIP)).toBe(true);

    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ namespace, name: 'old' });
    await core.createNamespacedPod({ namespace, body: slowToStop('new') });
    const newIP = (await readyPod('new')).status?.podIP ?? '';
    const newReadyAfterMs = Date.now() - deletedAt;

    // Set up, started and reported while the old one still serves out its delay: the loop was not held.
    expect(newReadyAfterMs).toBeLessThan(SHUTDOWN_DELAY_MS);
    expect(await answers(oldIP)).toBe(true);
    expect(newIP).not.toBe(oldIP);
    expect(await answers(newIP)).toBe(true);
    // Its object stays, terminating, until its process is gone.
    expect(
      (await core.readNamespacedPod({ namespace, name: 'old' })).metadata?.deletionTimestamp,
    ).toBeTruthy();

    await eventually(
      'the old pod object to be gone',
      () =>
        core.readNamespacedPod({ namespace, name: 'old' }).then(
          () => false,
          () => true,
        ),
      20_000,
    );
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(SHUTDOWN_DELAY_MS);
    expect(await answers(oldIP)).toBe(false); // its process ended before its object went
    expect(await answers(newIP)).toBe(true);
  });
});

// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
// The lib's public surface; other projects import these from '@kok/testing' and '@kok/testing/vitest'.
import { eventually, startControlPlane, uniqueName } from './index.ts';
import { sharedKubeConfig } from './shared-control-plane.ts';
import { describe, expect, it } from 'vitest';

describe('the shared control plane of the run', () => {
  it('schedules a pod onto a kwok node, which runs it', async () => {
    // vitest.config.ts has globalSetup: ['@kok/testing/global-setup']: one control plane for every file.
    const core = sharedKubeConfig().makeApiClient(CoreV1Api);
    const namespace = uniqueName('example'); // files share the cluster: isolate by name
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // Pods need the namespace's default ServiceAccount, which kube-controller-manager adds a moment later.
    await eventually('the default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ namespace, name: 'default' }),
    );
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'web', image: 'registry.example/web:1.0' }] },
      },
    });

    // The scheduler picks a node and kwok plays its kubelet; eventually polls until it is so.
    const pod = await eventually('the pod to run', async () => {
      const current = await core.readNamespacedPod({ namespace, name: 'web' });
      return current.status?.phase === 'Running' && current;
    });
    expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
    await core.deleteNamespace({ name: namespace });
  });
});

describe('a control plane of its own', () => {
  it('is for tests that stop the apiserver or need identities: RBAC decides what a user may do', async () => {
    const controlPlane = await startControlPlane(); // etcd and kube-apiserver only, on free ports
    try {
      const alice = new KubeConfig();
      alice.loadFromString(await controlPlane.kubeconfigForUser('alice', ['developers']));
      await expect(alice.makeApiClient(CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 403 });

      const admin = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
      expect((await admin.listNamespace()).items.map((ns) => ns.metadata?.name)).toContain('default');
    } finally {
      await controlPlane.stop(); // every process stopped, its directory removed
    }
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

import { AppsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pinnedVersions } from './binaries.ts';
import {
  sharedBinDir,
  sharedKubeConfig,
  sharedKubeconfigForUser,
  sharedKubeconfigPath,
} from './shared-control-plane.ts';
import { uniqueName } from './unique-name.ts';

describe('the shared control plane (controller-manager, scheduler, kwok)', () => {
  it('has Ready kwok nodes', async () => {
    const nodes = await sharedKubeConfig().makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
    const ready = nodes.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(ready.length).toBeGreaterThanOrEqual(3);
  });

  it('runs a Deployment of 3 replicas as 3 Running and Ready pods on kwok nodes', async () => {
    const kubeConfig = sharedKubeConfig();
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const namespace = uniqueName('deploy');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.example/web:1.0' }] },
          },
        },
      },
    });

    let pods: Awaited<ReturnType<typeof core.listNamespacedPod>>['items'] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
      const ready = pods.filter(
        (p) =>
          p.status?.phase === 'Running' &&
          p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      if (ready.length === 3) break;
      await sleep(250);
    }
    expect(pods.map((p) => p.status?.phase)).toEqual(['Running', 'Running', 'Running']);
    expect(pods.every((p) => p.spec?.nodeName?.startsWith('kwok-node-'))).toBe(true);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    await expect
      .poll(
        async () => (await apps.readNamespacedDeployment({ namespace, name: 'web' })).status?.readyReplicas,
        {
          timeout: 30_000,
        },
      )
      .toBe(3);
  });

  it('issues a kubeconfig for any user and groups, which authenticates as them and gets only what RBAC grants', async () => {
    const bob = new KubeConfig();
    bob.loadFromString(await sharedKubeconfigForUser('bob', ['auditors']));
    expect(bob.getCurrentCluster()?.server).toBe(sharedKubeConfig().getCurrentCluster()?.server);
    const review = await bob.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('bob');
    expect(review.status?.userInfo?.groups).toContain('auditors');
    await expect(bob.makeApiClient(CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 403 });
  });

  it('kubectl version reports the pinned client and server versions', () => {
    const output = execFileSync(
      join(sharedBinDir(), 'kubectl'),
      ['version', '-o', 'json', '--kubeconfig', sharedKubeconfigPath()],
      {
        encoding: 'utf8',
      },
    );
    const version = JSON.parse(output) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(version.clientVersion.gitVersion).toBe(pinnedVersions().kubernetes);
    expect(version.serverVersion.gitVersion).toBe(pinnedVersions().kubernetes);
  });

  it('helm version reports the pinned version and sees the server version', () => {
    const helm = join(sharedBinDir(), 'helm');
    const version = execFileSync(helm, ['version', '--template', '{{ .Version }}'], { encoding: 'utf8' });
    expect(version.trim()).toBe(pinnedVersions().helm);
    // helm renders against the live server: .Capabilities.KubeVersion comes from /version.
    const chartDir = join(process.cwd(), 'src/fixtures/capabilities-chart');
    const rendered = execFileSync(
      helm,
      ['template', 'probe', chartDir, '--kubeconfig', sharedKubeconfigPath(), '--validate'],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          HELM_CACHE_HOME: '/tmp/kok-helm-cache',
          HELM_CONFIG_HOME: '/tmp/kok-helm-config',
          HELM_DATA_HOME: '/tmp/kok-helm-data',
        },
      },
    );
    expect(rendered).toContain(`kubeVersion: "${pinnedVersions().kubernetes}"`);
  });
});

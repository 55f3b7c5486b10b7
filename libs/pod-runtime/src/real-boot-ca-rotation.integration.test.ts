// End to end, a CA rotation for real: the kube-on-kube-operator boots a
// Cluster's control plane on the local pod runtime, then rotates every CA of it
// (spec.certificates.caRotationGeneration). Real etcd, kube-apiserver,
// controller-manager and scheduler restart through every phase; at the end the
// biz apiserver answers the new admin kubeconfig and refuses to be trusted by
// the old one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'rotate';

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-real-rotation-' });
});

afterAll(async () => {
  await boot?.stop();
});

/** A copy of kubeconfig `path` that dials `ip`, keeping its port and TLS name. */
function retarget(path: string, ip: string, file: string): string {
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
  };
  for (const entry of config.clusters) {
    const port = new URL(entry.cluster['server'] ?? '').port;
    entry.cluster['server'] = `https://${ip}:${port}`;
  }
  const target = join(boot.workDir, file);
  writeFileSync(target, JSON.stringify(config));
  return target;
}

// An apiserver may be mid-restart: a request gives up soon and the caller asks again.
const bizKubectl = (kubeconfig: string, ...args: string[]) =>
  boot.kubectlWith(kubeconfig, '--request-timeout=5s', ...args);

const getCluster = () => boot.getCluster(clusterName);

describe('a CA rotation of a Cluster booted by the local pod runtime', () => {
  it('restarts the real control plane through every phase; the new admin kubeconfig works, the old one is refused', async () => {
    await boot.createCluster(clusterName);
    await eventually(
      'the Cluster to be Ready',
      async () => (await getCluster()).status?.phase === 'Ready',
      120_000,
      250,
    );
    const before = await boot.readyPod('kube-apiserver');
    const oldKubeconfig = await boot.adminKubeconfig(
      clusterName,
      before.status?.podIP ?? '',
      'old.kubeconfig',
    );
    expect(bizKubectl(oldKubeconfig, 'get', '--raw', '/readyz')).toBe('ok');
    // Something to find again after every member restarted: etcd keeps its data through the rotation.
    bizKubectl(oldKubeconfig, 'create', 'namespace', 'before-rotation');

    const started = Date.now();
    boot.kubectl(
      'patch',
      'cluster',
      clusterName,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"certificates":{"caRotationGeneration":1}}}',
    );
    await eventually(
      'the rotation to complete with the control plane Ready',
      async () => {
        const cluster = await getCluster();
        return (
          cluster.status?.certificates?.caRotation?.phase === 'Completed' && cluster.status.phase === 'Ready'
        );
      },
      480_000,
      250,
    );

    const after = await boot.readyPod('kube-apiserver', before.metadata?.name);
    const newKubeconfig = await boot.adminKubeconfig(
      clusterName,
      after.status?.podIP ?? '',
      'new.kubeconfig',
    );
    expect(bizKubectl(newKubeconfig, 'get', '--raw', '/readyz')).toBe('ok');
    expect(bizKubectl(newKubeconfig, 'get', 'namespace', 'before-rotation', '-o', 'name')).toBe(
      'namespace/before-rotation\n',
    );
    // The old kubeconfig trusts only the old CA, which no longer signs the apiserver's certificate.
    const oldAtNewAddress = retarget(oldKubeconfig, after.status?.podIP ?? '', 'old-at-new.kubeconfig');
    expect(() => bizKubectl(oldAtNewAddress, 'get', '--raw', '/readyz')).toThrow(
      /certificate signed by unknown authority|x509/,
    );
    // controller-manager and scheduler came back with kubeconfigs of the new CA and hold their leases again.
    for (const component of ['kube-controller-manager', 'kube-scheduler']) {
      await boot.readyPod(component);
      await eventually(
        `${component} renews its lease after the rotation`,
        () => {
          const renewed = bizKubectl(
            newKubeconfig,
            'get',
            'lease',
            '-n',
            'kube-system',
            component,
            '-o',
            'jsonpath={.spec.renewTime}',
          );
          return Date.parse(renewed) > started;
        },
        120_000,
        250,
      );
    }
  }, 600_000);
});

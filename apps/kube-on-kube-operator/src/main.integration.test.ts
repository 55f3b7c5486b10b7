/** The operator as a user runs it: `node src/main.ts` with flags, as a child process. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorProcess } from './operator-process.ts';
import { clusterType } from './resource-types.ts';
import { eventually, freshNamespace, installClusterCrds } from './test-support.ts';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let client: KubeClient;
let ns: string;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installClusterCrds(client);
  ns = await freshNamespace(client, 'kok-main');
});

afterAll(() => client?.close());

describe('node src/main.ts', () => {
  it('prints its flags with --help', async () => {
    const child = spawn(process.execPath, ['src/main.ts', '--help'], { cwd: appDir });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    for (const flag of ['--kubeconfig', '--namespace', '--metrics-bind-address', '--leader-elect'])
      expect(out).toContain(flag);
  });

  it('rejects an unknown flag with exit code 2 and the usage', async () => {
    const child = spawn(process.execPath, ['src/main.ts', '--kubeconfg=x'], { cwd: appDir });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/kubeconfg[\s\S]*Usage:/);
  });

  it('runs, reconciles a Cluster in its namespace, logs JSON and stops on SIGTERM', async () => {
    // Its log lines are read whole across chunk boundaries, and it is running once it says so.
    const { child, lines, exited } = await startOperatorProcess(sharedKubeconfigPath(), [
      `--namespace=${ns}`,
      '--metrics-bind-address=127.0.0.1:0',
    ]);
    try {
      // No volume is made for this etcd, so its claim stays Pending and the Cluster Provisioning;
      // the PKI, the Services and the status still show the operator at work.
      await client.create(clusterType, {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'solo', namespace: ns },
        spec: { version: 'v1.36.3', etcd: { replicas: 1 } },
      });
      const cluster = await eventually(
        'the Cluster to be provisioning with its PKI',
        async () => {
          const c = await client.get(clusterType, { namespace: ns, name: 'solo' });
          return c.status?.phase === 'Provisioning' && c.status.certificates?.notAfter ? c : undefined;
        },
        30_000,
      );
      expect(cluster.status?.endpoint).toBe(`https://solo-apiserver.${ns}.svc:6443`);
      expect(cluster.status?.conditions?.find((c) => c.type === 'EtcdAvailable')?.status).toBe('False');
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\noperator log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`,
        { cause: error },
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
  }, 60_000);
});

/**
 * The meta-cluster side of the stack where its control planes run as local
 * processes: a meta-cluster, the local pod runtime as its only Node (each
 * pod a process on a loopback address), and the kube-on-kube-operator as a
 * process of this machine. The fallback where real hosts cannot run, or when
 * chosen with `--control-plane processes`.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, openSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalPodRuntime, stageMetaCluster } from '@kok/pod-runtime';
import { freePort, pinnedVersions, startControlPlane } from '@kok/testing';
import { stopProcess } from '../../node-agent/src/fixtures/agent-hosts.ts';
import type { MetaSide, StackSteps } from './stack-steps.ts';
import { STACK_NAMESPACE } from './stack-names.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const KOK_OPERATOR_MAIN = join(repositoryRoot, 'apps/kube-on-kube-operator/src/main.ts');
const NODE_OPERATOR_MAIN = join(repositoryRoot, 'apps/node-operator/src/main.ts');

/** Where the stack's operator writes etcd snapshots. */
export function etcdSnapshotDir(stateDir: string): string {
  return join(stateDir, 'etcd-snapshots');
}

export async function startProcessMeta(stateDir: string, steps: StackSteps): Promise<MetaSide> {
  const { step, onStop } = steps;
  // 1. The meta-cluster. Its pods run on the pod runtime's Node only: no kwok here.
  const controlPlane = await startControlPlane({
    controllerManager: true,
    scheduler: true,
    baseDir: stateDir,
  });
  onStop('the meta-cluster', () => controlPlane.stop());
  const metaKubeconfigPath = join(stateDir, 'meta.kubeconfig');
  copyFileSync(controlPlane.kubeconfigPath, metaKubeconfigPath);
  const metaConfig = controlPlane.kubeConfig;
  await stageMetaCluster({
    controlPlane: {
      binDir: controlPlane.binDir,
      kubeConfig: metaConfig,
      kubeconfigPath: metaKubeconfigPath,
    },
    crdsDir: join(repositoryRoot, 'crds'),
    namespace: STACK_NAMESPACE,
    volumePath: join(stateDir, 'pv-0'),
  });
  step('meta-cluster up: etcd, kube-apiserver, controller-manager, scheduler');

  // 2. The pod runtime: the meta-cluster's only Node, running pods as local processes.
  const runtimeLog = openSync(join(stateDir, 'pod-runtime.log'), 'a');
  const runtime = new LocalPodRuntime({
    kubeConfig: metaConfig,
    binDir: controlPlane.binDir,
    stateDir: join(stateDir, 'runtime'),
    extraImages: { 'node-operator': [process.execPath, NODE_OPERATOR_MAIN] },
    // A patch upgrade of the stack's Cluster moves between tags of the one build here; each is logged.
    substituteUnbuiltVersions: true,
    onLog: (line) => writeFileSync(runtimeLog, `${new Date().toISOString()} ${line}\n`),
  });
  await runtime.start();
  onStop('the pod runtime and its pods', async () => {
    await runtime.stop();
    closeSync(runtimeLog);
  });
  step(
    `pod runtime up: Node ${runtime.nodeName} runs the meta-cluster's pods as local processes; a control-plane ` +
      `image of a version with no local build runs the ${basename(controlPlane.binDir)} build (each logged in pod-runtime.log)`,
  );

  // 3. The kube-on-kube-operator, as deployed but on the host.
  const operator = spawnLogged(
    'kube-on-kube-operator',
    [
      KOK_OPERATOR_MAIN,
      `--kubeconfig=${metaKubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${await freePort()}`,
      // Service names of the meta-cluster do not resolve on the host: dial a Ready apiserver pod.
      '--biz-apiserver-dial=pod-ip',
      '--etcd-dial=pod-ip',
      `--etcd-snapshot-dir=${etcdSnapshotDir(stateDir)}`,
    ],
    stateDir,
  );
  onStop('the kube-on-kube-operator', () => stopProcess(operator, 'SIGTERM'));
  step('kube-on-kube-operator started');

  return {
    kind: 'processes',
    metaConfig,
    metaKubeconfigPath,
    binDir: controlPlane.binDir,
    // The pod runtime's pods listen on loopback addresses of this machine.
    reach: 'pod-ip',
    apiServerServiceType: 'ClusterIP',
    version: pinnedVersions().kubernetes,
    // The Cluster asks for a snapshot an hour; the operator writes them under the stack's state directory.
    etcdSnapshotDir: etcdSnapshotDir(stateDir),
    logsWhere: `${stateDir}/*.log, pods under runtime/pods/`,
    runsAs: 'real processes',
  };
}

/** A child process of the host, its output appended to `<name>.log` in `dir`. */
function spawnLogged(name: string, args: readonly string[], dir: string): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}

// A persistent local control plane for humans: `npm run kok:control-plane`
// starts it in the foreground, `npm run kok:control-plane:stop` (or Ctrl-C) stops it.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from './control-plane.ts';
import { runningPid, serveUntilSignalled, stopByPidFile } from './foreground-service.ts';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const stateDir = join(root, '.kok');
const pidFile = join(stateDir, 'control-plane.pid');
const kubeconfigFile = join(stateDir, 'kubeconfig');
const log = (message: string) => console.log(`[kok] ${message}`);

async function start(): Promise<void> {
  const existing = runningPid(pidFile);
  if (existing) {
    log(`a local control plane is already running (pid ${existing})`);
    log(`export KUBECONFIG=${kubeconfigFile}`);
    return;
  }
  mkdirSync(stateDir, { recursive: true });
  const began = performance.now();
  log('starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok ...');
  const controlPlane = await startControlPlane({
    controllerManager: true,
    scheduler: true,
    kwok: true,
    nodes: 3,
    baseDir: stateDir,
    onProgress: log,
  });
  copyFileSync(controlPlane.kubeconfigPath, kubeconfigFile);
  const shown = relative(process.cwd(), kubeconfigFile) || kubeconfigFile;
  log(
    `local control plane up in ${((performance.now() - began) / 1000).toFixed(1)}s at ${controlPlane.server}`,
  );
  log('use it with:');
  console.log(
    `\n  export KUBECONFIG=${kubeconfigFile}\n  export PATH=${controlPlane.binDir}:$PATH\n  kubectl get nodes\n`,
  );
  log(`logs: ${controlPlane.dir}/*.log  (kubeconfig also at ${shown})`);
  log('stop with Ctrl-C here, or `npm run kok:control-plane:stop` from another terminal');

  serveUntilSignalled(
    pidFile,
    async () => {
      await controlPlane.stop();
      rmSync(kubeconfigFile, { force: true });
    },
    log,
  );
}

async function stop(): Promise<void> {
  await stopByPidFile(pidFile, 'local control plane', log);
}

const command = process.argv[2] ?? 'start';
if (command === 'start') await start();
else if (command === 'stop') await stop();
else {
  console.error(`usage: dev-control-plane.ts [start|stop]  (got "${command}")`);
  process.exit(2);
}

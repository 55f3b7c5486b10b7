// A persistent local control plane for humans: `npm run kok:control-plane`
// starts it in the foreground, `npm run kok:control-plane:stop` (or Ctrl-C) stops it.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from './control-plane.ts';
import { isAlive } from './process-liveness.ts';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const stateDir = join(root, '.kok');
const pidFile = join(stateDir, 'control-plane.pid');
const kubeconfigFile = join(stateDir, 'kubeconfig');
const log = (message: string) => console.log(`[kok] ${message}`);

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

async function start(): Promise<void> {
  const existing = runningPid();
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
  writeFileSync(pidFile, String(process.pid));
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

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the local control plane ...`);
    await controlPlane.stop();
    rmSync(pidFile, { force: true });
    rmSync(kubeconfigFile, { force: true });
    log('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(signal));
  setInterval(() => undefined, 60_000);
}

async function stop(): Promise<void> {
  const pid = runningPid();
  if (!pid) {
    log('no local control plane is running');
    rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid))
    throw new Error(`control plane (pid ${pid}) did not stop within 30 s; kill it with: kill -9 ${pid}`);
  log(`stopped the local control plane (pid ${pid})`);
}

const command = process.argv[2] ?? 'start';
if (command === 'start') await start();
else if (command === 'stop') await stop();
else {
  console.error(`usage: dev-control-plane.ts [start|stop]  (got "${command}")`);
  process.exit(2);
}

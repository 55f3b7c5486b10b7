// `npm run kok`: the whole of kok on this machine, in the foreground, until
// Ctrl-C or `npm run kok:stop`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runningPid, serveUntilSignalled, stopByPidFile } from '@kok/testing';
import type { LocalStack } from './local-stack.ts';
import { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL, startLocalStack } from './local-stack.ts';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const stateRoot = join(root, '.kok');
const pidFile = join(stateRoot, 'kok.pid');
const log = (message: string) => console.log(`[kok] ${message}`);

function usage(stack: LocalStack, seconds: string): string {
  const bin = stack.binDir;
  const plugin = join(root, 'apps/kubectl-kok/bin');
  return `
kok is up in ${seconds}s.

  export PATH=${bin}:${plugin}:$PATH

The meta-cluster (Clusters; the control plane of "${STACK_CLUSTER}" runs as local processes):

  kubectl --kubeconfig ${stack.metaKubeconfigPath} get clusters -A
  kubectl --kubeconfig ${stack.metaKubeconfigPath} get pods -n ${STACK_NAMESPACE} -o wide
  kubectl kok --kubeconfig ${stack.metaKubeconfigPath} cluster get ${STACK_CLUSTER} -n ${STACK_NAMESPACE}

The biz-cluster "${STACK_CLUSTER}" (its apiserver, through a local proxy; Machines and NodePools):

  kubectl --kubeconfig ${stack.bizKubeconfigPath} get nodes,machines,nodepools
  kubectl kok --kubeconfig ${stack.bizKubeconfigPath} nodepool status ${STACK_POOL}

A canary rollout of the next kubelet (one machine first, then it pauses):

  kubectl --kubeconfig ${stack.bizKubeconfigPath} patch nodepool ${STACK_POOL} --type json \\
    -p '${kubeletPatch(stack)}'
  kubectl kok --kubeconfig ${stack.bizKubeconfigPath} nodepool status ${STACK_POOL} --watch
  kubectl kok --kubeconfig ${stack.bizKubeconfigPath} nodepool resume ${STACK_POOL}

Logs: ${stack.stateDir}/*.log, pods under runtime/pods/; ${stack.hosts.where}.
Stop: Ctrl-C here, or \`npm run kok:stop\` from another terminal.
`;
}

/** A JSON patch that moves the pool's kubelet to the next version of the catalog. */
function kubeletPatch(stack: LocalStack): string {
  const next = stack.hosts.kubeletVersions[1] ?? stack.hosts.kubeletVersions[0];
  const index = stack.hosts.template(next ?? '').components?.findIndex((c) => c.name === 'kubelet') ?? -1;
  return JSON.stringify([{ op: 'replace', path: `/spec/template/components/${index}/version`, value: next }]);
}

type HostKind = 'real' | 'stand-in' | 'auto';

async function start(machines: number, apiServerReplicas: number, hosts: HostKind): Promise<void> {
  const existing = runningPid(pidFile);
  if (existing) {
    log(`kok is already running (pid ${existing}); stop it with \`npm run kok:stop\``);
    return;
  }
  mkdirSync(stateRoot, { recursive: true });
  const stateDir = join(stateRoot, 'stack');
  rmSync(stateDir, { recursive: true, force: true });
  // Early, so a second `npm run kok` sees this one while it starts.
  writeFileSync(pidFile, String(process.pid));
  const began = performance.now();
  log(
    `starting kok: a meta-cluster, a Cluster booted for real, its node-operator, ${machines} hosts with node agents`,
  );
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      stateDir,
      machines,
      apiServerReplicas,
      hosts,
      onProgress: (m) => log(`✓ ${m}`),
    });
  } catch (error) {
    rmSync(pidFile, { force: true });
    throw error;
  }
  console.log(usage(stack, ((performance.now() - began) / 1000).toFixed(1)));

  serveUntilSignalled(pidFile, () => stack.stop(), log);
}

async function stop(): Promise<void> {
  await stopByPidFile(pidFile, 'kok', log);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    machines: { type: 'string', default: '3' },
    'apiserver-replicas': { type: 'string', default: '1' },
    hosts: { type: 'string', default: 'auto' },
  },
});
const command = positionals[0] ?? 'start';
const hosts = values.hosts;
if (hosts !== 'real' && hosts !== 'stand-in' && hosts !== 'auto') {
  console.error(`--hosts must be real, stand-in or auto, not "${hosts}"`);
  process.exit(2);
}
if (command === 'start') await start(Number(values.machines), Number(values['apiserver-replicas']), hosts);
else if (command === 'stop') await stop();
else {
  console.error(
    `usage: main.ts [start|stop] [--machines N] [--apiserver-replicas N] [--hosts real|stand-in|auto]  (got "${command}")`,
  );
  process.exit(2);
}

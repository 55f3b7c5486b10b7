// `kok up|down|status` (`npx kok`, `npm run kok`): the whole of kok on this
// machine, in the foreground until Ctrl-C or `kok down`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runningPid, serveUntilSignalled, stopByPidFile } from '@kok/testing';
import { upInstructions } from './instructions.ts';
import type { HostKind, LocalStack } from './local-stack.ts';
import { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL, startLocalStack } from './local-stack.ts';
import { readStackRecord, removeStackRecord, writeStackRecord } from './stack-record.ts';
import type { ControlPlaneKind } from './stack-steps.ts';
import { clusterLines, descendantProcesses, processTable, renderStatus } from './status.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_STATE_DIR = join(repositoryRoot, '.kok');
const log = (message: string) => console.log(`[kok] ${message}`);
const USAGE =
  'usage: kok up [--machines N] [--apiserver-replicas N] [--hosts real|stand-in|auto]\n' +
  '              [--control-plane containers|processes|auto] [--state-dir DIR]\n' +
  '       kok down [--state-dir DIR]\n' +
  '       kok status [--state-dir DIR]\n' +
  '(state, logs and kubeconfigs in DIR, by default .kok of the repository)';

type ControlPlaneChoice = ControlPlaneKind | 'auto';

const pidFileOf = (stateDir: string) => join(stateDir, 'kok.pid');

async function up(
  stateDir: string,
  machines: number,
  apiServerReplicas: number,
  hosts: HostKind,
  controlPlane: ControlPlaneChoice,
) {
  const pidFile = pidFileOf(stateDir);
  const existing = runningPid(pidFile);
  if (existing) {
    const option = stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${stateDir}`;
    log(`kok is already running (pid ${existing}); stop it with \`npx kok down${option}\``);
    return;
  }
  mkdirSync(stateDir, { recursive: true });
  removeStackRecord(stateDir);
  const stackDir = join(stateDir, 'stack');
  rmSync(stackDir, { recursive: true, force: true });
  // Early, so a second `kok up` sees this one while it starts.
  writeFileSync(pidFile, String(process.pid));
  const began = performance.now();
  log(
    `starting kok: a meta-cluster, a Cluster booted for real, its node-operator, ${machines} hosts with node agents`,
  );
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      stateDir: stackDir,
      machines,
      apiServerReplicas,
      hosts,
      controlPlane,
      onProgress: (m) => log(`✓ ${m}`),
    });
  } catch (error) {
    rmSync(pidFile, { force: true });
    throw error;
  }
  writeStackRecord(stateDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    stackDir,
    controlPlane: stack.controlPlane,
    metaKubeconfigPath: stack.metaKubeconfigPath,
    bizKubeconfigPath: stack.bizKubeconfigPath,
    binDir: stack.binDir,
    cluster: { namespace: STACK_NAMESPACE, name: STACK_CLUSTER },
    pool: STACK_POOL,
    machines: stack.machines,
    hosts: {
      kind: stack.hosts.kind,
      where: stack.hosts.where,
      kubeletVersions: stack.hosts.kubeletVersions,
      templates: Object.fromEntries(stack.hosts.kubeletVersions.map((v) => [v, stack.hosts.template(v)])),
    },
  });
  console.log(
    upInstructions({
      repositoryRoot,
      binDir: stack.binDir,
      metaKubeconfigPath: stack.metaKubeconfigPath,
      bizKubeconfigPath: stack.bizKubeconfigPath,
      namespace: STACK_NAMESPACE,
      cluster: STACK_CLUSTER,
      pool: STACK_POOL,
      stateDir: stackDir,
      controlPlane: stack.controlPlane,
      ...(stack.etcdSnapshotDir ? { etcdSnapshotDir: stack.etcdSnapshotDir } : {}),
      logsWhere: stack.logsWhere,
      hostsWhere: stack.hosts.where,
      kubeletVersions: stack.hosts.kubeletVersions,
      template: (kubelet) => stack.hosts.template(kubelet),
      seconds: ((performance.now() - began) / 1000).toFixed(1),
      ...(stateDir === DEFAULT_STATE_DIR ? {} : { stateDirOption: `--state-dir ${stateDir}` }),
    }),
  );

  serveUntilSignalled(
    pidFile,
    async () => {
      removeStackRecord(stateDir);
      await stack.stop();
    },
    log,
  );
}

async function status(stateDir: string): Promise<void> {
  const pid = runningPid(pidFileOf(stateDir));
  const record = readStackRecord(stateDir);
  if (!pid) {
    console.log(renderStatus({ state: 'stopped', stateDir }));
    return;
  }
  if (!record || record.pid !== pid) {
    console.log(renderStatus({ state: 'starting', stateDir, pid }));
    return;
  }
  const { clusters, pools } = await clusterLines(record);
  console.log(
    renderStatus({
      state: 'running',
      stateDir,
      repositoryRoot,
      record,
      processes: descendantProcesses(processTable(), pid),
      clusters,
      pools,
    }),
  );
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    machines: { type: 'string', default: '3' },
    'apiserver-replicas': { type: 'string', default: '1' },
    hosts: { type: 'string', default: 'auto' },
    'control-plane': { type: 'string', default: 'auto' },
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
  },
});
const command = positionals[0];
const hosts = values.hosts;
const stateDir = resolve(values['state-dir']);
if (hosts !== 'real' && hosts !== 'stand-in' && hosts !== 'auto') {
  console.error(`--hosts must be real, stand-in or auto, not "${hosts}"\n${USAGE}`);
  process.exit(2);
}
const controlPlane = values['control-plane'];
if (controlPlane !== 'containers' && controlPlane !== 'processes' && controlPlane !== 'auto') {
  console.error(`--control-plane must be containers, processes or auto, not "${controlPlane}"\n${USAGE}`);
  process.exit(2);
}
if (command === 'up')
  await up(stateDir, Number(values.machines), Number(values['apiserver-replicas']), hosts, controlPlane);
else if (command === 'down') await stopByPidFile(pidFileOf(stateDir), 'kok', log);
else if (command === 'status') await status(stateDir);
else {
  console.error(`${command === undefined ? 'no command' : `unknown command "${command}"`}\n${USAGE}`);
  process.exit(2);
}

// Real node agents for the benchmarks: the node-agent app as it ships (its bundle), one process and one
// --root per Machine, its built-in supervisor running a `payload` Component whose `run` script only sleeps,
// served by a local artifact server. No kubelet, container runtime or pod runs on these "hosts".
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentType, machineType, NODE_AGENT_GROUP, nodeAgentGrant, nodeAgentUser } from '@kok/api';
import type { ComponentObject, GrantObject } from '@kok/api';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import type { ResourceType } from '@kok/reconcile';
import { eventually } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- agents start as the app ships them (its bundle)
import { nodeAgentCommand } from '@kok/node-agent/bundle.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { startArtifactServer } from '@kok/node-agent/src/fixtures/artifact-server.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { applyDeployFile } from '@kok/node-agent/src/fixtures/cluster.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { hostPaths } from '@kok/node-agent/src/host-paths.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { ProcessSupervisor } from '@kok/node-agent/src/process-supervisor.ts';

export { nodeAgentCommand };

/** The Component every benchmark agent runs. */
export const PAYLOAD = 'payload';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `payload-<v>.tar.gz` in `dir`: a `run` script that just sleeps (the service each agent supervises). */
function payloadArtifact(dir: string, version: string): { name: string; sha256: string } {
  const staging = mkdtempSync(join(tmpdir(), 'kok-payload-'));
  writeFileSync(join(staging, 'run'), `#!/bin/sh\n# payload ${version}\nexec sleep 1000000\n`);
  chmodSync(join(staging, 'run'), 0o755);
  const name = `payload-${version}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, name), '-C', staging, 'run']);
  rmSync(staging, { recursive: true, force: true });
  return {
    name,
    sha256: createHash('sha256')
      .update(readFileSync(join(dir, name)))
      .digest('hex'),
  };
}

export interface PayloadCatalog {
  /** Stops the artifact server and removes the artifacts. */
  close(): Promise<void>;
}

/** Serves a payload artifact of each of `versions` and creates the `payload` Component that offers them. */
export async function createPayloadComponent(
  client: KubeClient,
  versions: readonly string[],
): Promise<PayloadCatalog> {
  const dir = mkdtempSync(join(tmpdir(), 'kok-payload-artifacts-'));
  const server = await startArtifactServer(dir);
  const close = async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await client.create(componentType, {
      apiVersion: componentType.apiVersion,
      kind: componentType.kind,
      metadata: { name: PAYLOAD },
      spec: {
        versions: versions.map((version) => {
          const artifact = payloadArtifact(dir, version);
          // The local artifact server is plain http.
          return {
            version,
            artifact: { url: server.urlOf(artifact.name), sha256: artifact.sha256, allowInsecureHttp: true },
          };
        }),
        install: { method: 'Archive', path: '/usr/local/lib/payload' },
        service: { type: 'Process', command: ['$(KOK_ROOT)/usr/local/lib/payload/run'] },
      },
    } as ComponentObject);
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}

/** One agent process as it ships: `node <bundle>` for `machine`, with its own root under `rootsDir`. */
export function spawnNodeAgent(
  command: readonly string[],
  options: { machine: string; kubeconfigPath: string; rootsDir: string; args?: readonly string[] },
): ChildProcess {
  const root = join(options.rootsDir, options.machine);
  mkdirSync(root, { recursive: true });
  return spawn(
    command[0] ?? process.execPath,
    [
      ...command.slice(1),
      `--machine=${options.machine}`,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--root=${root}`,
      '--service-manager=supervisor',
      '--http-port=0',
      '--log-level=warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/**
 * Ends the agent processes, then the payloads their supervisors left running (a stopped agent leaves its
 * services up, as on a real host), machine by machine under `rootsDir`.
 */
export async function stopNodeAgents(
  children: readonly ChildProcess[],
  rootsDir: string,
  machines: readonly string[],
): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await sleep(2000);
  for (const machine of machines) {
    const paths = hostPaths(join(rootsDir, machine));
    const supervisor = new ProcessSupervisor({ runDir: paths.runDir, logDir: paths.logDir });
    await supervisor.adopt().catch(() => []);
    await supervisor.stopAll().catch(() => undefined);
    await supervisor.close();
  }
}

const grantTypes: Record<GrantObject['kind'], ResourceType> = {
  ClusterRole: builtinTypes.clusterRole,
  ClusterRoleBinding: builtinTypes.clusterRoleBinding,
  RoleBinding: builtinTypes.roleBinding,
};

/** What the product installs for every agent: its RBAC and admission policy, as the agent's deploy/ ships them. */
export async function installAgentAccess(admin: KubeClient): Promise<void> {
  await applyDeployFile(admin, 'rbac.yaml');
  await applyDeployFile(admin, 'admission-policy.yaml');
}

/**
 * An agent's own identity, as the node agent's integration tests give it: Machine `machine`'s grant as the
 * node-operator writes it (nodeAgentGrant, owned by the Machine, so the operator finds it current), and a
 * client certificate for system:node-agent:<machine> in group kok:node-agents, written to a kubeconfig
 * file (mode 0600) in `dir`. Returns that file once the apiserver honours the grant. Needs
 * installAgentAccess first.
 */
export async function agentKubeconfig(
  admin: KubeClient,
  controlPlane: ControlPlane,
  machine: string,
  dir: string,
): Promise<string> {
  const uid = (await admin.get(machineType, { name: machine })).metadata?.uid ?? '';
  for (const object of nodeAgentGrant(machine, uid))
    await admin.apply(grantTypes[object.kind], object as KubernetesObject);
  const text = await controlPlane.kubeconfigForUser(nodeAgentUser(machine), [NODE_AGENT_GROUP]);
  const path = join(dir, `${machine}.kubeconfig`);
  writeFileSync(path, text, { mode: 0o600 });
  // RBAC reaches the apiserver's authorizer through its informers: wait until the agent may read its Machine.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(text);
  const agent = new KubeClient(kubeConfig);
  try {
    await eventually(
      `${nodeAgentUser(machine)} allowed to read its Machine`,
      () => agent.get(machineType, { name: machine }).then(() => true),
      60_000,
      100,
    );
  } finally {
    agent.close();
  }
  return path;
}

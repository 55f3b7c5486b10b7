/**
 * Simulated hosts for end-to-end tests, each with a REAL node-agent process
 * (`apps/node-agent/src/main.ts`, built-in supervisor) and its own `--root`.
 * The host software the agents install is the node-agent's test SIMULATORS
 * (a kubelet stand-in that registers a kwok Node, a containerd stand-in),
 * packed as archives and served by a local artifact server.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComponentSpec } from '@kok/api';
import { startArtifactServer } from '../../../apps/node-agent/src/fixtures/artifact-server.ts';
import type { ArtifactServer } from '../../../apps/node-agent/src/fixtures/artifact-server.ts';
import type { BuiltArtifact } from '../../../apps/node-agent/src/fixtures/build-artifacts.ts';
import {
  containerdArtifact,
  kubeletArtifact,
} from '../../../apps/node-agent/src/fixtures/build-artifacts.ts';
import { freePort } from '@kok/testing';
import { hostPaths } from '../../../apps/node-agent/src/host-paths.ts';
import { ProcessSupervisor } from '../../../apps/node-agent/src/process-supervisor.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- agents start as the app ships them (its bundle)
import { nodeAgentCommand } from '@kok/node-agent/bundle.ts';

// The agent as it ships (one bundled module), built once per test process.
const [NODE, AGENT_MAIN] = (await nodeAgentCommand()) as [string, string];

/** Host paths the kubelet stand-in reads; provisioned on each host before its agent starts (not managed by kok). */
const KUBELET_KUBECONFIG = '/etc/kubernetes/kubelet.kubeconfig';
const KUBELET_CONFIG = '/etc/kubernetes/kubelet-config.yaml';
/** The kubelet stand-in's healthz port, alone in a file so a health check can read it. */
const HEALTHZ_PORT_FILE = '/etc/kubernetes/healthz-port';
const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

export interface CatalogVersion {
  version: string;
  /** The kubelet stand-in answers /healthz with 500: the version's health check fails. Default false. */
  unhealthy?: boolean;
  /** The catalog names an artifact the server does not have: every download of it gets 404. Default false. */
  missing?: boolean;
}

/** Artifacts of the stand-ins and the Component specs (catalog) that point at them. */
export interface Catalog {
  readonly server: ArtifactServer;
  readonly kubelet: ComponentSpec;
  readonly containerd: ComponentSpec;
  close(): Promise<void>;
}

/**
 * Builds and serves the stand-in archives. Health checks are `curl` execs
 * reading per-host addresses under `$(KOK_ROOT)`, because many hosts share
 * one loopback interface and a Component's check is the same for all of them.
 */
export async function startCatalog(
  kubeletVersions: readonly CatalogVersion[],
  containerdVersions: readonly string[],
): Promise<Catalog> {
  const dir = mkdtempSync(join(tmpdir(), 'kok-e2e-artifacts-'));
  const server = await startArtifactServer(dir);
  const entry = (version: string, artifact: BuiltArtifact, missing = false) => ({
    version,
    // The local artifact server is plain http.
    artifact: {
      url: server.urlOf(missing ? `missing-${artifact.name}` : artifact.name),
      sha256: artifact.sha256,
      allowInsecureHttp: true,
    },
  });
  const kubelet: ComponentSpec = {
    versions: kubeletVersions.map((v) =>
      entry(v.version, kubeletArtifact(dir, v.version, { unhealthy: v.unhealthy === true }), v.missing),
    ),
    install: { method: 'Archive', path: '/usr/local/lib/kubelet' },
    service: {
      type: 'Process',
      command: [
        '$(KOK_ROOT)/usr/local/lib/kubelet/kubelet',
        ...['--kubeconfig', `$(KOK_ROOT)${KUBELET_KUBECONFIG}`],
        ...['--node-name', '$(KOK_NODE_NAME)'],
        ...['--config', `$(KOK_ROOT)${KUBELET_CONFIG}`],
      ],
    },
    healthCheck: {
      exec: {
        command: [
          'sh',
          '-c',
          'exec curl -sf --max-time 4 "http://127.0.0.1:$(cat "$1")/healthz"',
          'kubelet-healthz',
          `$(KOK_ROOT)${HEALTHZ_PORT_FILE}`,
        ],
      },
      // Tolerant of a starved CPU (20 hosts are 60 processes on 2 cores): a slow answer is not a failure,
      // while the broken version (HTTP 500) still fails within seconds.
      periodSeconds: 1,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  } as ComponentSpec;
  const containerd: ComponentSpec = {
    versions: containerdVersions.map((v) => entry(v, containerdArtifact(dir, v))),
    install: { method: 'Archive', path: '/usr/local/lib/containerd' },
    service: {
      type: 'Process',
      command: [
        '$(KOK_ROOT)/usr/local/lib/containerd/containerd',
        '--address',
        `$(KOK_ROOT)${CONTAINERD_SOCKET}`,
      ],
    },
    healthCheck: {
      exec: {
        command: [
          'curl',
          ...['-sf', '--max-time', '4', '--unix-socket', `$(KOK_ROOT)${CONTAINERD_SOCKET}`],
          'http://containerd/version',
        ],
      },
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  } as ComponentSpec;
  return {
    server,
    kubelet,
    containerd,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One simulated host: a root directory and the node-agent process converging it. */
export interface AgentHost {
  readonly machine: string;
  readonly root: string;
  readonly healthzPort: number;
  agent: ChildProcess;
}

/**
 * What a host is handed: the kubelet stand-in authenticates with a kubeconfig
 * it is given; the node-agent asks for its own certificate
 * (system:node-agent:<machine>, approved by the node-operator) with a
 * bootstrap kubeconfig, as on a real host.
 */
export interface HostCredentials {
  readonly kubeletKubeconfigPath: string;
  /** Content of a kubeconfig holding a bootstrap token (see createBootstrapKubeconfig). */
  readonly bootstrapKubeconfig: string;
}

/** Where the agent keeps the certificate it was issued, under its root. */
export const AGENT_KUBECONFIG = '/etc/kok/agent.kubeconfig';
const BOOTSTRAP_KUBECONFIG = '/etc/kok/bootstrap.kubeconfig';

/** Prepares a host root the way a provisioner would (kubeconfigs and kubelet config), then starts its agent. */
export async function startAgentHost(
  machine: string,
  baseDir: string,
  credentials: HostCredentials,
): Promise<AgentHost> {
  const root = join(baseDir, machine);
  const healthzPort = await freePort();
  const write = (path: string, content: string, mode: number) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content, { mode });
  };
  write(KUBELET_KUBECONFIG, readFileSync(credentials.kubeletKubeconfigPath, 'utf8'), 0o600);
  write(BOOTSTRAP_KUBECONFIG, credentials.bootstrapKubeconfig, 0o600);
  write(KUBELET_CONFIG, `healthzPort: ${healthzPort}\n`, 0o644);
  write(HEALTHZ_PORT_FILE, `${healthzPort}\n`, 0o644);
  return { machine, root, healthzPort, agent: spawnAgent(machine, root) };
}

function spawnAgent(machine: string, root: string): ChildProcess {
  const log = openSync(join(root, 'agent.log'), 'a');
  const child = spawn(
    NODE,
    [
      AGENT_MAIN,
      ...['--machine', machine, '--root', root],
      ...[
        '--kubeconfig',
        join(root, AGENT_KUBECONFIG),
        '--bootstrap-kubeconfig',
        join(root, BOOTSTRAP_KUBECONFIG),
      ],
      ...['--service-manager', 'supervisor', '--http-port', '0', '--resync-seconds', '30'],
      ...['--log-level', process.env.KOK_E2E_AGENT_LOG ?? 'info'],
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  return child;
}

/** Ends a child process with `signal` and waits for it to be gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** Stops the agent, then the services it supervises (a stopped agent leaves them running, as on a real host). */
export async function stopAgentHost(host: AgentHost): Promise<void> {
  await stopProcess(host.agent);
  const paths = hostPaths(host.root);
  const supervisor = new ProcessSupervisor({ runDir: paths.runDir, logDir: paths.logDir });
  await supervisor.adopt();
  await supervisor.stopAll();
  await supervisor.close();
}

/** The last lines of a host's agent log, for failure messages. */
export function agentLogTail(host: AgentHost, lines = 20): string {
  try {
    return readFileSync(join(host.root, 'agent.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no agent log)';
  }
}

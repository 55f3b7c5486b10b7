/**
 * The agent as a real process, on a pool template that drops a component and
 * two files: the component's service stops and is undefined, its links go,
 * its unpacked version stays; a file the agent wrote goes, one changed by
 * hand and one the agent never wrote stay. The agent is SIGKILLed while the
 * service is stopping (the stand-in ignores SIGTERM, so that takes the
 * supervisor's 5 s): a restarted agent finishes the removal. Naming the
 * component again brings it back from the kept version, with no artifact
 * left to download.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MachineSpec } from '@kok/api';
import type {} from '@kok/testing/global-setup';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archive } from './fixtures/build-artifacts.ts';
import type { BuiltArtifact } from './fixtures/build-artifacts.ts';
import {
  createComponent,
  eventually,
  getMachine,
  installNodeCrds,
  putMachineSpec,
} from './fixtures/cluster.ts';
import type { AgentIdentity } from './fixtures/agent-identity.ts';
import { agentIdentity } from './fixtures/agent-identity.ts';
import type { HostScenario } from './fixtures/host-scenario.ts';
import { currentVersionOnDisk, hostScenario } from './fixtures/host-scenario.ts';
import type { ComponentObject } from './resources.ts';
import { componentType, machineType } from './resources.ts';
import { serviceMarkerPrefix } from './process-supervisor.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SIDECAR_VERSION = '1.0.0';
const CONFIG_DIR = '/etc/kok-removal';
const WRITTEN = `${CONFIG_DIR}/written.conf`;
const EDITED = `${CONFIG_DIR}/edited.conf`;
const ADMIN = `${CONFIG_DIR}/admin.conf`;
/** Written by the stand-in each time it is asked to stop (and ignores it). */
const TERM_SEEN = '/sidecar-term-seen';

let client: KubeClient;
let host: HostScenario;
let agent: ChildProcess | undefined;
let identity: AgentIdentity;
let sidecar: string;
let artifactsDir: string;
let sidecarArtifact: BuiltArtifact;

function startAgent(): ChildProcess {
  const log = openSync(join(host.root, 'agent.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      MAIN,
      ...['--machine', host.machine, '--root', host.root, '--kubeconfig', identity.kubeconfigPath],
      ...['--service-manager', 'supervisor', '--http-port', '0', '--resync-seconds', '1'],
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Pids of the live sidecar processes the supervisor under this root started (not their `sleep` children). */
function sidecarProcesses(): number[] {
  const marker = `${serviceMarkerPrefix(host.paths.runDir)}${sidecar}`;
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) continue;
      const started = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`/${sidecar}/sidecar`);
      if (started && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker))
        found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function onDisk(path: string): string | undefined {
  try {
    return readFileSync(host.paths.host(path), 'utf8');
  } catch {
    return undefined;
  }
}

async function waitForRevision(spec: MachineSpec): Promise<void> {
  await eventually(
    `revision ${spec.revision}`,
    async () =>
      (await getMachine(client, host.machine)).status?.revision?.current === spec.revision ? true : undefined,
    // A deadline, not a figure: beside other suites on 2 cores an agent's boot alone can take tens of seconds.
    180_000,
  );
}

async function eventReasons(): Promise<string[]> {
  const { items } = await client.list(builtinTypes.event, { namespace: 'default' });
  return items.filter((e) => e.regarding?.name === host.machine).map((e) => e.reason ?? '');
}

/** The scenario's kubelet and containerd, with or without the sidecar and its two files. */
function spec(withSidecar: boolean): MachineSpec {
  const base = host.spec('v1.36.1', '1.7.21');
  if (!withSidecar) return base;
  return {
    ...base,
    revision: `${base.revision ?? ''}-sidecar`,
    components: [...(base.components ?? []), { name: sidecar, version: SIDECAR_VERSION }],
    files: [
      ...(base.files ?? []),
      { path: WRITTEN, content: 'written by the agent\n' },
      { path: EDITED, content: 'written by the agent, edited later\n' },
    ],
  };
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig());
  await installNodeCrds(client);
  host = await hostScenario(client, sharedKubeconfigPath());
  // The Machine comes first, with nothing to run yet: its agent's grant is owned by it.
  await putMachineSpec(client, host.machine, {});
  identity = await agentIdentity(client, host.machine);
  sidecar = uniqueName('sidecar');
  artifactsDir = mkdtempSync(join(tmpdir(), 'kok-removal-artifacts-'));
  // A service that takes its time to stop: it notes each SIGTERM and goes on.
  sidecarArtifact = archive(artifactsDir, `${sidecar}.tar.gz`, {
    sidecar: `#!/bin/sh\ntrap 'touch "$KOK_ROOT${TERM_SEEN}"' TERM\nwhile :; do sleep 0.2; done\n`,
  });
  await createComponent(client, {
    metadata: { name: sidecar },
    spec: {
      versions: [
        {
          version: SIDECAR_VERSION,
          artifact: { url: pathToFileURL(sidecarArtifact.file).href, sha256: sidecarArtifact.sha256 },
        },
      ],
      install: { method: 'Archive', path: `/usr/local/lib/${sidecar}` },
      service: { type: 'Process', command: [`$(KOK_ROOT)/usr/local/lib/${sidecar}/sidecar`] },
    },
  } as ComponentObject);
  mkdirSync(host.paths.host(CONFIG_DIR), { recursive: true });
  writeFileSync(host.paths.host(ADMIN), 'placed by an administrator\n');
});

afterAll(async () => {
  if (agent) await kill(agent);
  await identity?.revoke();
  await host?.cleanup();
  if (host) {
    await client.delete(builtinTypes.node, { name: host.machine });
    await client.delete(machineType, { name: host.machine });
    await client.delete(componentType, { name: host.kubelet });
    await client.delete(componentType, { name: host.containerd });
    await client.delete(componentType, { name: sidecar });
  }
  if (artifactsDir) rmSync(artifactsDir, { recursive: true, force: true });
  client?.close();
});

describe('what leaves the Machine spec leaves the host', () => {
  it('stops and removes a dropped component even across a SIGKILL, deletes only files the agent wrote, and brings it back from the kept version', async () => {
    const withSidecar = spec(true);
    const without = spec(false);
    await putMachineSpec(client, host.machine, withSidecar);
    agent = startAgent();
    await waitForRevision(withSidecar);
    expect(sidecarProcesses()).toHaveLength(1);
    expect(onDisk(WRITTEN)).toBe('written by the agent\n');

    // Dropped from the pool template: the agent starts stopping the sidecar, and dies while it waits.
    await putMachineSpec(client, host.machine, without);
    await eventually(
      'the sidecar asked to stop',
      () => existsSync(host.paths.host(TERM_SEEN)) || undefined,
      60_000,
      20,
    );
    await kill(agent);
    // Half-way: the service still runs, its links are still there, the files still wait.
    expect(sidecarProcesses()).toHaveLength(1);
    expect(currentVersionOnDisk(host.paths, sidecar)).toBe(SIDECAR_VERSION);
    expect(onDisk(WRITTEN)).toBeDefined();
    // Meanwhile someone edits one of the agent's files by hand.
    writeFileSync(host.paths.host(EDITED), 'edited by hand\n');

    agent = startAgent();
    await waitForRevision(without);
    expect(sidecarProcesses()).toEqual([]);
    // The supervisor's definition of the service (its pid file) is gone; the unpacked version is kept.
    expect(existsSync(join(host.paths.runDir, `${sidecar}.pid`))).toBe(false);
    expect(currentVersionOnDisk(host.paths, sidecar)).toBeUndefined();
    expect(existsSync(host.paths.host(`/usr/local/lib/${sidecar}`))).toBe(false);
    expect(existsSync(host.paths.versionDir(sidecar, SIDECAR_VERSION))).toBe(true);
    expect(onDisk(WRITTEN)).toBeUndefined();
    expect(onDisk(EDITED)).toBe('edited by hand\n');
    expect(onDisk(ADMIN)).toBe('placed by an administrator\n');
    const status = (await getMachine(client, host.machine)).status;
    expect(status?.components?.map((c) => c.name)).toEqual([host.kubelet, host.containerd]);
    expect(status?.files?.map((f) => f.path)).toEqual((without.files ?? []).map((f) => f.path));
    await eventually('ComponentRemoved and FileKept Events', async () => {
      const reasons = await eventReasons();
      return reasons.includes('ComponentRemoved') && reasons.includes('FileKept') ? true : undefined;
    });

    // A rollback to the template with the sidecar: its kept version runs again, with no artifact to fetch.
    rmSync(sidecarArtifact.file);
    rmSync(join(host.paths.downloadsDir, sidecarArtifact.sha256), { force: true });
    await putMachineSpec(client, host.machine, withSidecar);
    await waitForRevision(withSidecar);
    expect(sidecarProcesses()).toHaveLength(1);
    expect(currentVersionOnDisk(host.paths, sidecar)).toBe(SIDECAR_VERSION);
    expect(onDisk(WRITTEN)).toBe('written by the agent\n');
    expect(onDisk(EDITED)).toBe('written by the agent, edited later\n');
  }, 400_000);
});

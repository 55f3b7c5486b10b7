import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../artifact-store.ts';
import type { DesiredComponent, DesiredFile } from '../desired-state.ts';
import { HostInventory, withComponents, withFileWritten } from '../host-inventory.ts';
import { hostExecution } from '../host-execution.ts';
import { hostPaths } from '../host-paths.ts';
import { Journal, withPendingAction } from '../journal.ts';
import { ProcessSupervisor } from '../process-supervisor.ts';
import { SystemdServiceManager } from '../systemd.ts';
import { AgentHost } from './host.ts';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function hostOn(manager: 'systemd' | 'supervisor', rootOnHost?: string): Promise<AgentHost> {
  const root = await mkdtemp(join(tmpdir(), 'agent-host-'));
  roots.push(root);
  const paths = hostPaths(root);
  const log = pino({ level: 'silent' });
  return new AgentHost({
    machineName: 'worker-1',
    paths,
    store: new ArtifactStore(paths),
    journal: new Journal(paths.stateDir),
    inventory: new HostInventory(paths.stateDir),
    services:
      manager === 'systemd'
        ? new SystemdServiceManager({
            unitDir: paths.unitDir,
            runner: () => Promise.reject(new Error('no systemctl')),
          })
        : new ProcessSupervisor({ runDir: paths.runDir, logDir: paths.logDir, logger: log }),
    execution: hostExecution({ root, rootOnHost, enterHostNamespaces: rootOnHost !== undefined }),
    log,
  });
}

const component = (service: DesiredComponent['service']): DesiredComponent => ({
  name: 'kubelet',
  version: '1.36.0',
  artifact: { url: 'http://a/kubelet', sha256: 'a'.repeat(64) },
  install: { method: 'Image', importCommand: ['ctr', '--root', '$(KOK_ROOT)/var/lib/containerd'] },
  service,
  onChange: 'restart',
});

describe('AgentHost', () => {
  it('expands host variables in service commands, environment and image imports', async () => {
    const host = await hostOn('supervisor');
    host.nodeIP = '10.0.0.7';
    const kubelet = component({ type: 'Process', command: ['kubelet', '--node-ip=$(KOK_NODE_IP)'] });
    expect(host.serviceDefinition(kubelet)).toEqual({
      name: 'kubelet',
      unit: undefined,
      command: ['kubelet', '--node-ip=10.0.0.7'],
      env: { KOK_ROOT: host.paths.root, KOK_NODE_NAME: 'worker-1', KOK_NODE_IP: '10.0.0.7' },
    });
    expect(host.expandInstall(kubelet.install).importCommand).toEqual([
      'ctr',
      '--root',
      `${host.paths.root}/var/lib/containerd`,
    ]);
  });

  it("expands $(KOK_ROOT) to the host's own path of the root when the agent sees it elsewhere", async () => {
    const host = await hostOn('supervisor', '/run/kok-host');
    const kubelet = component({ type: 'Process', command: ['$(KOK_ROOT)/opt/kubelet'] });
    expect(host.serviceDefinition(kubelet).command).toEqual(['/run/kok-host/opt/kubelet']);
    expect(host.serviceDefinition(kubelet).env?.['KOK_ROOT']).toBe('/run/kok-host');
    expect(host.expand('root=$(KOK_ROOT)/var/lib/containerd')).toBe('root=/run/kok-host/var/lib/containerd');
  });

  it('refuses a systemd unit under the built-in supervisor, but can still name it', async () => {
    const host = await hostOn('supervisor');
    const kubelet = component({ type: 'Systemd', unit: 'kubelet.service' });
    expect(() => host.serviceDefinition(kubelet)).toThrow(/built-in supervisor/);
    expect(host.serviceDefinitionOrName(kubelet)).toEqual({ name: 'kubelet', unit: 'kubelet.service' });
    const systemdHost = await hostOn('systemd');
    expect(systemdHost.serviceDefinition(kubelet).unit).toBe('kubelet.service');
  });

  it('forgets a component: no service action owed, no inventory entry, a first start again', async () => {
    const host = await hostOn('systemd');
    const kubelet = component({ type: 'Process', command: ['kubelet'] });
    await host.journal.load();
    await host.inventory.load();
    await host.journal.update((s) => withPendingAction(s, 'kubelet', 'restart'));
    await host.inventory.update((s) => withComponents(s, [kubelet]));
    host.startedOnce.add('kubelet');
    await host.forgetComponent('kubelet');
    expect(host.journal.state.pending).toEqual({});
    expect(host.inventory.state.components).toEqual({});
    expect(host.startedOnce.has('kubelet')).toBe(false);
  });

  it('forgets a file: no inventory entry, no digest to detect drift against', async () => {
    const host = await hostOn('systemd');
    const file: DesiredFile = {
      path: '/etc/kubelet.yaml',
      content: 'x',
      sha256: 'b'.repeat(64),
      mode: 0o644,
      secret: false,
      onChange: undefined,
    };
    await host.inventory.load();
    await host.inventory.update((s) => withFileWritten(s, file));
    host.lastWritten.set(file.path, file.sha256);
    await host.forgetFile(file.path);
    expect(host.inventory.state.files).toEqual({});
    expect(host.lastWritten.size).toBe(0);
  });
});

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DesiredComponent, DesiredFile } from './desired-state.ts';
import {
  EMPTY_INVENTORY,
  HostInventory,
  withComponents,
  withCurrentOnChange,
  withFileBeingWritten,
  withFileWritten,
  withoutComponent,
  withoutDataPaths,
  withoutFile,
} from './host-inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'kok-inventory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (sha256: string, onChange?: DesiredFile['onChange']): DesiredFile => ({
  path: '/etc/k',
  content: sha256,
  sha256,
  mode: 0o644,
  secret: false,
  onChange,
});
const component = (name: string, extra: Partial<DesiredComponent> = {}): DesiredComponent => ({
  name,
  version: 'v1',
  artifact: { url: `http://a/${name}`, sha256: 'a'.repeat(64) },
  install: { method: 'Archive', path: `/usr/local/lib/${name}` },
  onChange: undefined,
  ...extra,
});

describe('host inventory', () => {
  it('records a component with what its removal must undo: its service (own or the host unit) and its link', () => {
    const recorded = withComponents(EMPTY_INVENTORY, [
      component('kubelet', { service: { type: 'Process', command: ['kubelet'] } }),
      component('containerd', { service: { type: 'Systemd', unit: 'containerd.service' } }),
      component('pause', { install: { method: 'Image', importCommand: ['ctr'] } }),
    ]);
    expect(recorded.components).toEqual({
      kubelet: { service: true, installPath: '/usr/local/lib/kubelet' },
      containerd: { service: true, unit: 'containerd.service', installPath: '/usr/local/lib/containerd' },
      pause: { service: false },
    });
    expect(withoutComponent(recorded, 'kubelet').components).not.toHaveProperty('kubelet');
  });

  it("keeps each component's data paths as last desired, after its removal too, until the host's data is gone", () => {
    const containerd = (dataPaths?: string[]) => component('containerd', dataPaths ? { dataPaths } : {});
    const recorded = withComponents(EMPTY_INVENTORY, [
      containerd(['/var/lib/containerd', '/run/containerd']),
      component('kubelet', { dataPaths: ['/var/lib/kubelet'] }),
      component('tool'),
    ]);
    expect(recorded.dataPaths).toEqual({
      containerd: ['/var/lib/containerd', '/run/containerd'],
      kubelet: ['/var/lib/kubelet'],
    });
    // Dropped from the spec and removed: its data stays on the host, and so does the record of it.
    expect(withoutComponent(recorded, 'containerd').dataPaths).toEqual(recorded.dataPaths);
    // The catalog's latest word counts.
    expect(withComponents(recorded, [containerd(['/var/lib/containerd'])]).dataPaths?.containerd).toEqual([
      '/var/lib/containerd',
    ]);
    expect(withComponents(recorded, [containerd()]).dataPaths).toEqual({ kubelet: ['/var/lib/kubelet'] });
    expect(withoutDataPaths(recorded)).not.toHaveProperty('dataPaths');
  });

  it('lists both contents while a write is under way and only the new one after it', () => {
    const first = withFileWritten(EMPTY_INVENTORY, file('x'));
    const during = withFileBeingWritten(first, file('y'));
    expect(during.files['/etc/k']?.sha256).toEqual(['x', 'y']);
    expect(withFileWritten(during, file('y')).files['/etc/k']?.sha256).toEqual(['y']);
    expect(withoutFile(during, '/etc/k').files).toEqual({});
  });

  it('keeps a recorded file’s onChange as the spec says it now, and records no file the agent did not write', () => {
    const written = withFileWritten(EMPTY_INVENTORY, file('x'));
    const reload = { component: 'kubelet', action: 'reload' } as const;
    const updated = withCurrentOnChange(written, [file('x', reload), { ...file('z'), path: '/etc/other' }]);
    expect(updated.files).toEqual({ '/etc/k': { sha256: ['x'], onChange: reload } });
  });

  it('survives a restart: what one run records, the next reads back; a missing record is empty', async () => {
    const stateDir = join(dir, 'state');
    const empty = new HostInventory(stateDir);
    expect(await empty.load()).toEqual(EMPTY_INVENTORY);
    await empty.update((s) =>
      withFileWritten(
        withComponents(s, [component('kubelet', { dataPaths: ['/var/lib/kubelet'] })]),
        file('x'),
      ),
    );
    expect(empty.state.dataPaths).toEqual({ kubelet: ['/var/lib/kubelet'] });
    expect(statSync(join(stateDir, 'inventory.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(stateDir)).toEqual(['inventory.json']);
    expect(await new HostInventory(stateDir).load()).toEqual(empty.state);
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandRunner } from './systemd.ts';
import { renderUnit, SystemdServiceManager, unitNameOf } from './systemd.ts';

// No systemd runs here: these tests check the exact systemctl commands through the injectable runner.
const unitDir = mkdtempSync(join(tmpdir(), 'kok-units-'));
afterAll(() => rmSync(unitDir, { recursive: true, force: true }));

function recording(stdout = '', code = 0) {
  const calls: string[] = [];
  const runner: CommandRunner = async (program, args) => {
    calls.push([program, ...args].join(' '));
    return { code, stdout, stderr: code ? 'Unit not found.' : '' };
  };
  return { calls, manager: new SystemdServiceManager({ unitDir, runner }) };
}

describe('systemd service manager', () => {
  it('drives a host unit with systemctl', async () => {
    const { calls, manager } = recording();
    const kubelet = { name: 'kubelet', unit: 'kubelet.service' };
    await manager.start(kubelet);
    await manager.restart(kubelet);
    await manager.reload(kubelet);
    await manager.stop(kubelet);
    expect(calls).toEqual([
      'systemctl enable --now kubelet.service',
      'systemctl daemon-reload',
      'systemctl enable kubelet.service',
      'systemctl restart kubelet.service',
      'systemctl reload-or-restart kubelet.service',
      'systemctl disable --now kubelet.service',
    ]);
  });

  it.each([
    [{ name: 'kubelet', unit: '--now.service' }],
    [{ name: 'kubelet', unit: '../../etc/systemd/system/evil.service' }],
    [{ name: '../../../etc/cron.d/x' }],
    [{ name: 'Kubelet' }],
  ])('refuses a unit name that is a path or a flag: %j', (service) => {
    expect(() => unitNameOf(service)).toThrow(/systemd unit name|cannot name a unit/);
  });

  it('generates a unit for a Process component and reloads systemd only when it changed', async () => {
    const { calls, manager } = recording();
    const service = {
      name: 'containerd',
      command: ['/opt/kok/containerd/current/containerd', '--config', '/etc/c d.toml'],
    };
    await manager.start(service);
    await manager.start(service);
    expect(calls).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now kok-containerd.service',
      'systemctl enable --now kok-containerd.service',
    ]);
    const unit = readFileSync(join(unitDir, 'kok-containerd.service'), 'utf8');
    expect(unit).toBe(renderUnit(service));
    expect(unit).toContain('ExecStart=/opt/kok/containerd/current/containerd --config "/etc/c d.toml"');
  });

  it('removes a generated unit for good: stopped, disabled, its file deleted, systemd reloaded', async () => {
    const { calls, manager } = recording('LoadState=loaded\nActiveState=active\n');
    const service = { name: 'shim', command: ['/opt/kok/shim/current/shim'] };
    await manager.start(service);
    calls.length = 0;
    await manager.remove(service);
    expect(calls).toEqual([
      'systemctl show --property=LoadState,ActiveState kok-shim.service',
      'systemctl stop kok-shim.service',
      'systemctl disable kok-shim.service',
      'systemctl daemon-reload',
    ]);
    expect(existsSync(join(unitDir, 'kok-shim.service'))).toBe(false);
  });

  it('stops and disables a host unit on removal but leaves its file, and does nothing for a unit that is gone', async () => {
    const host = recording('LoadState=loaded\nActiveState=failed\n');
    await host.manager.remove({ name: 'runtime', unit: 'containerd.service' });
    expect(host.calls).toEqual([
      'systemctl show --property=LoadState,ActiveState containerd.service',
      'systemctl stop containerd.service',
      'systemctl disable containerd.service',
    ]);
    const gone = recording('LoadState=not-found\nActiveState=inactive\n');
    await gone.manager.remove({ name: 'runtime', unit: 'containerd.service' });
    await gone.manager.remove({ name: 'never-started' });
    expect(gone.calls).toEqual([
      'systemctl show --property=LoadState,ActiveState containerd.service',
      'systemctl show --property=LoadState,ActiveState kok-never-started.service',
    ]);
  });

  it('reads the state from systemctl show and reports failures with systemctl output', async () => {
    const { manager } = recording('ActiveState=active\nMainPID=4242\nNRestarts=3\n');
    expect(await manager.status({ name: 'kubelet', unit: 'kubelet.service' })).toEqual({
      running: true,
      pid: 4242,
      restarts: 3,
    });
    const failing = recording('', 5).manager;
    await expect(failing.restart({ name: 'kubelet', unit: 'kubelet.service' })).rejects.toThrow(
      /systemctl daemon-reload failed \(exit 5\): Unit not found/,
    );
  });
});

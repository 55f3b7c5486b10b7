import type { Machine } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { compareComponents, compareFiles, describeMachine, sha256Hex } from './machine-description.ts';
import { lastOperationLine, renderMachineDescription, revisionLine } from './render/machine-describe.ts';
import { condition } from './test-support/objects.ts';

const KUBELET_CONFIG = 'kind: KubeletConfiguration\n';

function subject(): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'worker-017' },
    spec: {
      address: '10.20.3.17',
      pool: 'workers',
      revision: 'aaaaaaaaaa',
      components: [
        { name: 'containerd', version: '1.7.22' },
        { name: 'kubelet', version: 'v1.36.3' },
        { name: 'node-exporter', version: '1.8.0' },
      ],
      files: [
        { path: '/etc/kubelet.yaml', content: KUBELET_CONFIG },
        { path: '/etc/motd', content: 'hello' },
        {
          path: '/etc/containerd/config.toml',
          configMapRef: { namespace: 'kok-system', name: 'cfg', key: 'c' },
        },
        { path: '/etc/token', secretRef: { namespace: 'kok-system', name: 'tok', key: 't' } },
      ],
    },
    status: {
      phase: 'Updating',
      nodeRef: { name: 'worker-017' },
      revision: { current: 'bbbbbbbbbb', desired: 'aaaaaaaaaa' },
      agent: { version: '0.1.0', lastHeartbeatTime: '2026-01-01T00:09:50Z' },
      components: [
        { name: 'containerd', version: '1.7.22', state: 'Running' },
        { name: 'kubelet', version: 'v1.35.4', state: 'Installing', message: 'downloading v1.36.3' },
        { name: 'old-agent', version: '0.9.0', state: 'Stopped' },
      ],
      files: [
        { path: '/etc/kubelet.yaml', sha256: sha256Hex(KUBELET_CONFIG) },
        { path: '/etc/motd', sha256: sha256Hex('bye') },
        { path: '/etc/containerd/config.toml', sha256: 'c'.repeat(64) },
        { path: '/etc/stale', sha256: 'd'.repeat(64) },
      ],
      conditions: [condition('UpToDate', 'False', 'Converging', 'installing kubelet')],
      lastOperation: { type: 'Update', state: 'Processing', progress: 40, startedAt: '2026-01-01T00:08:00Z' },
    },
  };
}

describe('machine describe: desired against observed', () => {
  it('matches components by name: same version, other version, not reported, not wanted', () => {
    expect(
      compareComponents(subject()).map((c) => [c.name, c.desired, c.reported, c.state, c.match]),
    ).toEqual([
      ['containerd', '1.7.22', '1.7.22', 'Running', 'yes'],
      ['kubelet', 'v1.36.3', 'v1.35.4', 'Installing', 'no'],
      ['node-exporter', '1.8.0', undefined, undefined, 'missing'],
      ['old-agent', undefined, '0.9.0', 'Stopped', 'extra'],
    ]);
  });

  it('counts a Secret file reported by its keyed digest as on the host, its content unknown', () => {
    const machine = subject();
    machine.status = { ...machine.status, files: [{ path: '/etc/token', hmacSha256: 'e'.repeat(64) }] };
    expect(compareFiles(machine).find((f) => f.path === '/etc/token')).toEqual({
      path: '/etc/token',
      source: 'Secret kok-system/tok[t]',
      match: 'unknown',
    });
  });

  it('compares inline files by content hash; files from Secrets or ConfigMaps are unknown', () => {
    expect(compareFiles(subject()).map((f) => [f.path, f.source, f.match])).toEqual([
      ['/etc/kubelet.yaml', 'inline', 'yes'],
      ['/etc/motd', 'inline', 'no'],
      ['/etc/containerd/config.toml', 'ConfigMap kok-system/cfg[c]', 'unknown'],
      ['/etc/token', 'Secret kok-system/tok[t]', 'missing'],
      ['/etc/stale', '-', 'extra'],
    ]);
  });

  it.each([
    [
      { desired: 'a', current: 'a', converging: 'a', atDesired: true },
      'desired a, agent converging to a, current a (at desired)',
    ],
    [
      { desired: 'a', current: 'b', atDesired: false },
      'desired a, agent converging to <none>, current b (NOT at desired)',
    ],
    [{ atDesired: false }, 'desired <none>, agent converging to <none>, current <none>'],
  ])('revision %j reads "%s"', (revision, expected) => {
    expect(revisionLine(revision)).toBe(expected);
  });

  it.each([
    [undefined, '<none>'],
    [
      { type: 'Update', state: 'Succeeded' as const, finishedAt: '2026-01-01T00:09:00Z' },
      'Update Succeeded, finished 60s ago',
    ],
    [
      { type: 'Remediate', state: 'Failed' as const, progress: 100, message: 'reboot timed out' },
      'Remediate Failed 100%: reboot timed out',
    ],
  ])('last operation %j reads "%s"', (operation, expected) => {
    expect(lastOperationLine(operation, new Date('2026-01-01T00:10:00Z'))).toBe(expected);
  });

  it('prints every section side by side', () => {
    const text = renderMachineDescription(describeMachine(subject()), new Date('2026-01-01T00:10:00Z'));
    expect(text).toContain(
      'Revision:        desired aaaaaaaaaa, agent converging to aaaaaaaaaa, current bbbbbbbbbb (NOT at desired)',
    );
    expect(text).toContain('Agent:           0.1.0, last heartbeat 10s ago');
    expect(text).toContain('Last operation:  Update Processing 40%, started 2m ago');
    expect(text).toMatch(/kubelet +v1\.36\.3 +v1\.35\.4 +Installing +no +downloading v1\.36\.3/);
    expect(text).toMatch(
      new RegExp(
        `/etc/kubelet.yaml +inline +${sha256Hex(KUBELET_CONFIG).slice(0, 12)} +${sha256Hex(KUBELET_CONFIG).slice(0, 12)} +yes`,
      ),
    );
    expect(text).toMatch(/UpToDate +False +Converging +2m|UpToDate +False +Converging/);
  });
});

import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VolumeSources } from './volumes.ts';
import { claimNotMountable, materializeVolumes, planVolume, sharesClaim, VolumeError } from './volumes.ts';

const sources: VolumeSources = {
  secret: (name) =>
    name === 'ca' ? { 'tls.crt': Buffer.from('CERT'), 'tls.key': Buffer.from('KEY') } : undefined,
  configMap: (name) => (name === 'settings' ? { 'a.yaml': Buffer.from('a: 1') } : undefined),
};

describe('planVolume', () => {
  it('projects chosen keys of Secrets at their paths with the default mode', () => {
    expect(
      planVolume(
        {
          name: 'pki',
          projected: {
            defaultMode: 0o400,
            sources: [{ secret: { name: 'ca', items: [{ key: 'tls.crt', path: 'ca.crt' }] } }],
          },
        },
        sources,
      ),
    ).toEqual({ kind: 'files', files: [{ path: 'ca.crt', content: Buffer.from('CERT'), mode: 0o400 }] });
  });

  it('takes every key when no items are listed', () => {
    const plan = planVolume({ name: 'c', configMap: { name: 'settings' } }, sources);
    expect(plan).toEqual({
      kind: 'files',
      files: [{ path: 'a.yaml', content: Buffer.from('a: 1'), mode: 0o644 }],
    });
  });

  it('fails, naming the volume, on a missing Secret or key unless optional', () => {
    expect(() => planVolume({ name: 'v', secret: { secretName: 'gone' } }, sources)).toThrow(
      /secret gone of volume v not found/,
    );
    expect(() =>
      planVolume({ name: 'v', secret: { secretName: 'ca', items: [{ key: 'nope', path: 'x' }] } }, sources),
    ).toThrow(VolumeError);
    expect(planVolume({ name: 'v', secret: { secretName: 'gone', optional: true } }, sources)).toEqual({
      kind: 'files',
      files: [],
    });
  });

  it('keeps claims and empty dirs as directories, and refuses what it cannot make', () => {
    expect(
      planVolume({ name: 'data', persistentVolumeClaim: { claimName: 'data-etcd-0' } }, sources),
    ).toEqual({ kind: 'claim', claimName: 'data-etcd-0' });
    expect(planVolume({ name: 'scratch', emptyDir: {} }, sources)).toEqual({ kind: 'emptyDir' });
    expect(() => planVolume({ name: 'host', hostPath: { path: '/' } }, sources)).toThrow(
      /only secret, configMap/,
    );
    expect(() =>
      planVolume(
        { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        sources,
      ),
    ).toThrow(/serviceAccountToken projections are not supported; set automountServiceAccountToken: false/);
    expect(() =>
      planVolume({ name: 'info', projected: { sources: [{ downwardAPI: { items: [] } }] } }, sources),
    ).toThrow(/only Secret and ConfigMap projections/);
  });
});

describe('materializeVolumes', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes files with their modes and puts claims outside the pod dir', () => {
    dir = mkdtempSync(join(tmpdir(), 'kok-volumes-test-'));
    const pod: V1Pod = {
      metadata: { namespace: 'biz', name: 'p' },
      spec: {
        containers: [],
        volumes: [
          {
            name: 'pki',
            projected: {
              defaultMode: 0o400,
              sources: [{ secret: { name: 'ca', items: [{ key: 'tls.key', path: 'etcd/ca.key' }] } }],
            },
          },
          { name: 'data', persistentVolumeClaim: { claimName: 'data-p' } },
        ],
      },
    };
    const dirs = materializeVolumes(pod, sources, {
      podDir: join(dir, 'pod'),
      claimsDir: join(dir, 'claims'),
    });
    expect(readFileSync(join(dir, 'pod/volumes/pki/etcd/ca.key'), 'utf8')).toBe('KEY');
    expect(statSync(join(dir, 'pod/volumes/pki/etcd/ca.key')).mode & 0o777).toBe(0o400);
    expect(dirs.get('data')).toBe(join(dir, 'claims/biz/data-p'));
    expect(statSync(join(dir, 'claims/biz/data-p')).isDirectory()).toBe(true);
  });

  it("mounts a claim bound to a hostPath volume at that volume's directory, as a kubelet does", () => {
    dir = mkdtempSync(join(tmpdir(), 'kok-volumes-test-'));
    const pod: V1Pod = {
      metadata: { namespace: 'biz', name: 'p' },
      spec: {
        containers: [],
        volumes: [
          { name: 'data', persistentVolumeClaim: { claimName: 'data-p' } },
          { name: 'other', persistentVolumeClaim: { claimName: 'unbound' } },
        ],
      },
    };
    const volumePath = join(dir, 'pv-3');
    const dirs = materializeVolumes(
      pod,
      { ...sources, claimHostPath: (name) => (name === 'data-p' ? volumePath : undefined) },
      { podDir: join(dir, 'pod'), claimsDir: join(dir, 'claims') },
    );
    expect(dirs.get('data')).toBe(volumePath);
    expect(statSync(volumePath).isDirectory()).toBe(true);
    // Bound to no hostPath volume: the runtime's own directory for the claim.
    expect(dirs.get('other')).toBe(join(dir, 'claims/biz/unbound'));
  });

  it('does not mount a claim that is being deleted, as a kubelet does not', () => {
    expect(claimNotMountable('biz', 'data-e-0', { metadata: { name: 'data-e-0' } })).toBeUndefined();
    expect(claimNotMountable('biz', 'data-e-0', undefined)).toBeUndefined();
    expect(
      claimNotMountable('biz', 'data-e-0', { metadata: { name: 'data-e-0', deletionTimestamp: new Date() } }),
    ).toBe("can't start pod because PVC biz/data-e-0 is being deleted");
  });

  it('refuses a path that escapes the volume', () => {
    dir = mkdtempSync(join(tmpdir(), 'kok-volumes-test-'));
    const pod: V1Pod = {
      metadata: { namespace: 'biz', name: 'p' },
      spec: {
        containers: [],
        volumes: [
          { name: 'v', secret: { secretName: 'ca', items: [{ key: 'tls.crt', path: '../../escape' }] } },
        ],
      },
    };
    expect(() =>
      materializeVolumes(pod, sources, { podDir: join(dir, 'pod'), claimsDir: join(dir, 'claims') }),
    ).toThrow(/escapes the volume/);
  });
});

describe('sharesClaim', () => {
  const podWith = (namespace: string, ...volumes: V1Volume[]): V1Pod => ({
    metadata: { namespace },
    spec: { containers: [], volumes },
  });
  const claim = (name: string, claimName: string) => ({ name, persistentVolumeClaim: { claimName } });
  const emptyDir = { name: 'scratch', emptyDir: {} };

  it.each<[string, V1Pod, V1Pod, boolean]>([
    [
      'the same claim (a StatefulSet pod and its replacement)',
      podWith('biz', claim('data', 'data-e-0')),
      podWith('biz', claim('data', 'data-e-0')),
      true,
    ],
    [
      'one claim among others, under another volume name',
      podWith('biz', emptyDir, claim('a', 'x'), claim('b', 'y')),
      podWith('biz', claim('c', 'y')),
      true,
    ],
    [
      'claims of other names',
      podWith('biz', claim('data', 'data-e-0')),
      podWith('biz', claim('data', 'data-e-1')),
      false,
    ],
    [
      'a claim of the same name in another namespace',
      podWith('biz', claim('data', 'data-e-0')),
      podWith('other', claim('data', 'data-e-0')),
      false,
    ],
    [
      'emptyDirs of the same name (each pod has its own)',
      podWith('biz', emptyDir),
      podWith('biz', emptyDir),
      false,
    ],
    ['a pod without volumes', podWith('biz'), podWith('biz', claim('data', 'data-e-0')), false],
  ])('%s', (_, a, b, shared) => {
    expect(sharesClaim(a, b)).toBe(shared);
    expect(sharesClaim(b, a)).toBe(shared);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostBinaries } from './host-binaries.ts';
import { buildNodeSoftware, COMPONENT_NAMES, NODE_PATHS, realHostTemplate } from './node-software.ts';

const scratch = mkdtempSync(join(tmpdir(), 'node-software-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every binary is a small file: the catalog only packs and hashes them. */
const binaries: HostBinaries = {
  dir: scratch,
  path: (component, version, file) => {
    const path = join(scratch, 'bin', component, version, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `${component} ${version}\n`);
    return path;
  },
};

const template = (extra: Partial<Parameters<typeof realHostTemplate>[0]> = {}) =>
  realHostTemplate({
    kubelet: 'v1.36.3',
    containerd: 'v2.2.9',
    imageVersions: { pause: '3.10.0', workload: '1.0.0' },
    cgroupParent: '/kok-rig0',
    ...extra,
  });
const kubeletConfig = (t: ReturnType<typeof template>) =>
  t.files?.find((file) => file.path === NODE_PATHS.kubeletConfig)?.content ?? '';

describe('the real-host template', () => {
  it("points the kubelet at kok's default cluster DNS and domain", () => {
    expect(kubeletConfig(template())).toContain('clusterDomain: cluster.local\nclusterDNS: [10.96.0.10]\n');
  });

  it("takes a Cluster's DNS address and domain", () => {
    expect(
      kubeletConfig(template({ clusterDNS: '10.100.0.10', clusterDomain: 'example.internal' })),
    ).toContain('clusterDomain: example.internal\nclusterDNS: [10.100.0.10]\n');
  });

  it('imports the add-on images only at the versions it is given', () => {
    const names = (t: ReturnType<typeof template>) =>
      (t.components ?? []).map((c) => `${c.name}@${c.version}`);
    expect(names(template())).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/kube-proxy|coredns/)]),
    );
    expect(names(template({ kubeProxy: 'v1.36.3', coreDns: 'v1.13.1' }))).toEqual(
      expect.arrayContaining([
        `${COMPONENT_NAMES.kubeProxyImage}@v1.36.3`,
        `${COMPONENT_NAMES.coreDnsImage}@v1.13.1`,
      ]),
    );
  });
});

describe('the add-on image Components', () => {
  const software = (aliases?: Record<string, string>) =>
    buildNodeSoftware({
      dir: mkdtempSync(join(scratch, 'artifacts-')),
      urlOf: (file) => `http://10.213.0.1:1/${file}`,
      binaries,
      kubeletVersions: ['v1.35.4', 'v1.36.3'],
      containerdVersions: ['v2.2.9'],
      nodeProblemDetectorVersion: 'v1.34.0',
      kubeProxyVersions: ['v1.35.4', 'v1.36.3'],
      coreDnsVersions: ['v1.13.1'],
      apiServer: 'https://10.213.0.1:6443',
      ...(aliases ? { kubeProxyAliases: aliases } : {}),
    }).components;

  it('offer kube-proxy at each built version and each alias, an alias sharing its build’s image', () => {
    const kubeProxy = software({ 'v1.36.4': 'v1.36.3' })[COMPONENT_NAMES.kubeProxyImage];
    const artifact = (version: string) => kubeProxy?.versions.find((v) => v.version === version)?.artifact;
    expect(kubeProxy?.versions.map((v) => v.version)).toEqual(['v1.35.4', 'v1.36.3', 'v1.36.4']);
    expect(artifact('v1.36.4')).toEqual(artifact('v1.36.3'));
    expect(artifact('v1.35.4')?.sha256).not.toBe(artifact('v1.36.3')?.sha256);
    expect(kubeProxy?.install.method).toBe('Image');
    expect(software()[COMPONENT_NAMES.coreDnsImage]?.versions.map((v) => v.version)).toEqual(['v1.13.1']);
  });

  it('refuse an alias of a version that is not built', () => {
    expect(() => software({ 'v1.37.1': 'v1.37.0' })).toThrow(
      /v1.37.1 is to be served by v1.37.0, which is not built/,
    );
  });
});

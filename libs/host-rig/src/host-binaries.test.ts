import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COREDNS_VERSIONS } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { hostVersions } from './host-binaries.ts';

const tools = resolve(dirname(fileURLToPath(import.meta.url)), '../../../tools');
const goMod = (module: string) => readFileSync(join(tools, module, 'go.mod'), 'utf8');
const kubernetesPin = /^require k8s\.io\/kubernetes (v\S+)/m;

describe('the host versions in tools/versions.env', () => {
  it('build every CoreDNS version the add-ons name, and tools/coredns pins it', () => {
    const { coreDns } = hostVersions();
    expect(coreDns).toEqual([...COREDNS_VERSIONS]);
    // One builder module: the list has one version until a second module joins it.
    expect(coreDns).toHaveLength(1);
    expect(goMod('coredns')).toMatch(new RegExp(`^require github\\.com/coredns/coredns ${coreDns[0]}$`, 'm'));
    expect(goMod('coredns')).toMatch(/^tool github\.com\/coredns\/coredns$/m);
  });

  it('build kube-proxy from the module of the kubelet of each version', () => {
    for (const version of hostVersions().kubelet) {
      const minor = /^v(\d+\.\d+)\./.exec(version)?.[1];
      // The control-plane module when it is that version, else tools/kubernetes-<minor> (as the build script picks).
      const own = goMod('kubernetes');
      const module = kubernetesPin.exec(own)?.[1] === version ? own : goMod(`kubernetes-${minor}`);
      expect(kubernetesPin.exec(module)?.[1]).toBe(version);
      expect(module).toMatch(/^\s*k8s\.io\/kubernetes\/cmd\/kube-proxy$/m);
      expect(module).toMatch(/^\s*k8s\.io\/kubernetes\/cmd\/kubelet$/m);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { sha256Of } from './atomic-file.ts';
import { desiredState } from './desired-state.ts';
import { expandHostVariables } from './host-paths.ts';
import type { MachineObject } from './resources.ts';

const machine = (content: string): MachineObject =>
  ({
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'm1' },
    spec: { address: '10.213.0.10', files: [{ path: '/etc/containerd/config.toml', content }] },
  }) as MachineObject;

describe('desired state', () => {
  it('expands host variables in file content, and hashes what lands on disk', () => {
    const expand = (text: string) =>
      expandHostVariables(text, { root: '/hosts/m1', nodeName: 'm1', nodeIP: '10.213.0.10' });
    const state = desiredState(
      machine('root = "$(KOK_ROOT)/var/lib/containerd" # $(KOK_NODE_NAME) $(KOK_NODE_IP)'),
      new Map(),
      undefined,
      undefined,
      expand,
    );
    const expected = 'root = "/hosts/m1/var/lib/containerd" # m1 10.213.0.10';
    expect(state.files).toMatchObject([{ content: expected, sha256: sha256Of(expected) }]);
  });

  it('keeps the content as written without an expander', () => {
    const state = desiredState(machine('x = "$(KOK_ROOT)"'), new Map(), undefined);
    expect(state.files[0]?.content).toBe('x = "$(KOK_ROOT)"');
  });
});

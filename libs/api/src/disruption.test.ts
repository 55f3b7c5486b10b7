import { describe, expect, it } from 'vitest';
import { changeActions, heaviestAction, machineChanges, needsDisruption } from './disruption.ts';
import type { DisruptionPolicy } from './disruption.ts';

const kubelet = { name: 'kubelet', version: 'v1.36.0' };
const containerd = { name: 'containerd', version: '1.7.21' };
const spec = {
  components: [kubelet, containerd],
  files: [{ path: '/etc/kubelet.yaml', content: 'a' }],
};
const policy: DisruptionPolicy = {
  defaultAction: 'Restart',
  components: [{ name: 'containerd', action: 'Drain' }],
  files: [{ path: '/etc/kubelet.yaml', action: 'Reload', component: 'kubelet' }],
};

describe('disruption pricing', () => {
  it.each([
    {
      name: 'a component version, priced by the default action',
      target: { ...spec, components: [{ name: 'kubelet', version: 'v1.36.1' }, containerd] },
      policy,
      changes: [{ kind: 'component', name: 'kubelet', from: 'v1.36.0', to: 'v1.36.1', action: 'Restart' }],
      drain: false,
    },
    {
      name: 'a component with its own action, and a removed file',
      target: { components: [kubelet, { name: 'containerd', version: '1.7.22' }] },
      policy,
      changes: [
        { kind: 'component', name: 'containerd', from: '1.7.21', to: '1.7.22', action: 'Drain' },
        { kind: 'file', name: '/etc/kubelet.yaml', fileChange: 'removed', action: 'Reload' },
      ],
      drain: true,
    },
    {
      name: 'no policy: everything drains (the CRD default)',
      target: { ...spec, files: [{ path: '/etc/kubelet.yaml', content: 'b' }] },
      policy: undefined,
      changes: [{ kind: 'file', name: '/etc/kubelet.yaml', fileChange: 'changed', action: 'Drain' }],
      drain: true,
    },
    { name: 'nothing changed', target: spec, policy, changes: [], drain: false },
  ])('$name', ({ target, policy, changes, drain }) => {
    expect(machineChanges(spec, target, policy)).toEqual(changes);
    expect(changeActions(spec, target, policy)).toEqual(changes.map((change) => change.action));
    expect(needsDisruption(spec, target, policy)).toBe(drain);
  });

  it('names the heaviest action as what the machine undergoes', () => {
    expect(heaviestAction(['Reload', 'Drain', 'Restart'])).toBe('Drain');
    expect(heaviestAction(['None', 'Reload'])).toBe('Reload');
    expect(heaviestAction([])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { chooseControlPlane } from './control-plane-choice.ts';

const runs = { supported: true, problems: [] };
const cannot = { supported: false, problems: ['no cgroup v1', 'runc missing'] };

describe('chooseControlPlane', () => {
  it('runs real containers wherever real hosts run, unless told otherwise', () => {
    expect(chooseControlPlane('auto', 'auto', runs)).toEqual({ kind: 'containers' });
    expect(chooseControlPlane('auto', 'real', runs)).toEqual({ kind: 'containers' });
    expect(chooseControlPlane('containers', 'auto', runs)).toEqual({ kind: 'containers' });
    expect(chooseControlPlane('processes', 'auto', runs)).toEqual({ kind: 'processes' });
  });

  it('falls back to processes on its own only when asked for auto, and says why', () => {
    expect(chooseControlPlane('auto', 'auto', cannot)).toEqual({
      kind: 'processes',
      announce:
        "real hosts cannot run here (no cgroup v1; runc missing): the Cluster's control plane runs as local processes on the pod runtime (the fallback)",
    });
    expect(chooseControlPlane('auto', 'stand-in', runs).announce).toMatch(/^--hosts stand-in: /);
    expect(chooseControlPlane('processes', 'stand-in', cannot)).toEqual({ kind: 'processes' });
  });

  it('refuses containers where they cannot run, rather than quietly running processes', () => {
    expect(() => chooseControlPlane('containers', 'auto', cannot)).toThrow(
      'the control plane cannot run as real containers: real hosts cannot run here (no cgroup v1; runc missing)',
    );
    expect(() => chooseControlPlane('containers', 'stand-in', runs)).toThrow(/--hosts stand-in/);
  });
});

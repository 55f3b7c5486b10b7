import { describe, expect, it } from 'vitest';
import { renderFlags } from './command-line.ts';

describe('renderFlags', () => {
  const base = [
    ['secure-port', '6443'],
    ['authorization-mode', 'Node,RBAC'],
  ] as const;

  it('renders base flags in order', () => {
    expect(renderFlags(base)).toEqual(['--secure-port=6443', '--authorization-mode=Node,RBAC']);
  });

  it('lets extraArgs override a base flag in place and appends new ones sorted', () => {
    expect(renderFlags(base, { v: '2', 'authorization-mode': 'RBAC', 'audit-log-path': '-' })).toEqual([
      '--secure-port=6443',
      '--authorization-mode=RBAC',
      '--audit-log-path=-',
      '--v=2',
    ]);
  });

  it('accepts extraArgs written with leading dashes', () => {
    expect(renderFlags([], { '--v': '4' })).toEqual(['--v=4']);
  });

  it('renders featureGates sorted into one --feature-gates flag', () => {
    expect(renderFlags(base, {}, { Zeta: false, Alpha: true })).toEqual([
      '--secure-port=6443',
      '--authorization-mode=Node,RBAC',
      '--feature-gates=Alpha=true,Zeta=false',
    ]);
  });

  it('prefers an explicit feature-gates extraArg over featureGates', () => {
    expect(renderFlags([], { 'feature-gates': 'X=true' }, { Y: true })).toEqual(['--feature-gates=X=true']);
  });
});

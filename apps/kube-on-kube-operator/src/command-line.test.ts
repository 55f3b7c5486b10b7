import { OPERATOR_OWNED_FLAGS } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { renderFlags } from './command-line.ts';
import type { RenderContext } from './components/component.ts';
import { apiServerArgs } from './components/kube-apiserver.ts';
import { controllerManagerArgs } from './components/kube-controller-manager.ts';
import { schedulerArgs } from './components/kube-scheduler.ts';
import { renderContext } from './components/render-fixtures.ts';

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

describe('flags the operator owns', () => {
  it('keep their base value whatever extraArgs say, with or without leading dashes', () => {
    expect(
      renderFlags(
        [['etcd-servers', 'https://etcd:2379']],
        { 'etcd-servers': 'https://other:2379', '--etcd-servers': 'https://other:2379', v: '2' },
        {},
        ['etcd-servers'],
      ),
    ).toEqual(['--etcd-servers=https://etcd:2379', '--v=2']);
  });

  it.each([
    ['kube-apiserver', 'apiServer', (ctx: RenderContext) => apiServerArgs(ctx.cluster, ctx.names)],
    [
      'kube-controller-manager',
      'controllerManager',
      (ctx: RenderContext) => controllerManagerArgs(ctx.cluster, ctx.names),
    ],
    ['kube-scheduler', 'scheduler', (ctx: RenderContext) => schedulerArgs(ctx.cluster)],
  ] as const)('%s: every flag the CRD reserves is one the operator sets', async (_, component, args) => {
    const rendered = args(await renderContext()).map((flag) => flag.replace(/^--([^=]+)=.*$/, '$1'));
    for (const flag of OPERATOR_OWNED_FLAGS[component]) expect(rendered).toContain(flag);
  });
});

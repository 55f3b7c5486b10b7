import type { HostSupport } from '@kok/host-rig';
import type { ControlPlaneKind } from './stack-steps.ts';

/** Which hosts the pool gets: real ones, stand-ins, or real where the machine runs them. */
export type HostKind = 'real' | 'stand-in' | 'auto';

/**
 * Where the control plane runs, from what was asked and what the machine can do; `announce` says why
 * when `auto` falls back to processes. Pure.
 */
export function chooseControlPlane(
  wanted: ControlPlaneKind | 'auto',
  hosts: HostKind,
  support: HostSupport,
): { kind: ControlPlaneKind; announce?: string } {
  if (wanted === 'processes') return { kind: 'processes' };
  const why = !support.supported
    ? `real hosts cannot run here (${support.problems.join('; ')})`
    : hosts === 'stand-in'
      ? '--hosts stand-in'
      : undefined;
  if (why === undefined) return { kind: 'containers' };
  if (wanted === 'containers') throw new Error(`the control plane cannot run as real containers: ${why}`);
  return {
    kind: 'processes',
    announce: `${why}: the Cluster's control plane runs as local processes on the pod runtime (the fallback)`,
  };
}

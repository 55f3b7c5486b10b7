import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContainerState } from './pod-status.ts';
import { podPhase, podStatus, statusChanged } from './pod-status.ts';

const now = new Date('2026-01-01T00:00:00Z');
const container = (over: Partial<ContainerState> = {}): ContainerState => ({
  name: 'c',
  image: 'registry.k8s.io/etcd:3.6.16-0',
  ready: false,
  restartCount: 0,
  ...over,
});
const state = (containers: ContainerState[]) => ({
  podIP: '127.1.0.1',
  hostIP: '127.0.0.1',
  startTime: now,
  containers,
});
const conditionOf = (status: ReturnType<typeof podStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type)?.status;

describe('podStatus', () => {
  it('is Pending until every process started, Running after', () => {
    expect(podStatus(state([container({ startedAt: now }), container()]), undefined, now).phase).toBe(
      'Pending',
    );
    expect(podStatus(state([container({ startedAt: now })]), undefined, now).phase).toBe('Running');
  });

  it('is Ready exactly when every container is ready', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), (readiness) => {
        const status = podStatus(
          state(readiness.map((ready) => container({ ready, startedAt: now }))),
          undefined,
          now,
        );
        const expected = readiness.every(Boolean) ? 'True' : 'False';
        return (
          conditionOf(status, 'Ready') === expected && conditionOf(status, 'ContainersReady') === expected
        );
      }),
    );
  });

  it('reports the pod address and why a container waits', () => {
    const status = podStatus(
      state([container({ waiting: { reason: 'ContainerCreating', message: 'secret ca not found' } })]),
      undefined,
      now,
    );
    expect(status.podIP).toBe('127.1.0.1');
    expect(status.podIPs).toEqual([{ ip: '127.1.0.1' }]);
    expect(status.containerStatuses?.[0]?.state?.waiting).toEqual({
      reason: 'ContainerCreating',
      message: 'secret ca not found',
    });
  });

  it('keeps lastTransitionTime while a condition holds and moves it when it flips', () => {
    const earlier = new Date('2025-12-31T00:00:00Z');
    const first = podStatus(state([container({ startedAt: now, ready: true })]), undefined, earlier);
    const same = podStatus(state([container({ startedAt: now, ready: true })]), first, now);
    const flipped = podStatus(state([container({ startedAt: now, ready: false })]), first, now);
    expect(same.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toEqual(earlier);
    expect(flipped.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toEqual(now);
  });
});

const finishedAt = new Date('2026-01-01T00:00:05Z');
const exited = (exitCode: number, message?: string): ContainerState =>
  container({ terminated: { exitCode, startedAt: now, finishedAt, ...(message ? { message } : {}) } });
const running = container({ startedAt: now, ready: true });
const crashLooping = container({
  waiting: { reason: 'CrashLoopBackOff' },
  lastExit: { exitCode: 1, finishedAt },
  restartCount: 2,
});

describe('podPhase', () => {
  it.each([
    ['one waiting', [container()], 'Pending'],
    ['one running', [running], 'Running'],
    ['one restarting after a crash', [crashLooping], 'Pending'],
    ['one exited 0, not restarted', [exited(0)], 'Succeeded'],
    ['one exited 1, not restarted', [exited(1)], 'Failed'],
    ['every one exited 0', [exited(0), exited(0)], 'Succeeded'],
    ['every one exited, one of them 2', [exited(0), exited(2)], 'Failed'],
    ['one exited 0, one still running', [exited(0), running], 'Running'],
    ['one failed for good, one still running', [exited(1), running], 'Running'],
    ['one exited 0, one still waiting', [exited(0), container()], 'Pending'],
  ])('%s → %s', (_case, containers, phase) => {
    expect(podPhase(containers)).toBe(phase);
  });
});

describe('podStatus of a completed pod', () => {
  it.each([
    [0, 'Succeeded', 'Completed'],
    [1, 'Failed', 'Error'],
    [137, 'Failed', 'Error'],
  ])('exit %i → phase %s, container terminated with reason %s', (exitCode, phase, reason) => {
    const status = podStatus(state([exited(exitCode)]), undefined, now);
    expect(status.phase).toBe(phase);
    expect(status.containerStatuses?.[0]).toMatchObject({
      ready: false,
      started: false,
      state: { terminated: { exitCode, reason, startedAt: now, finishedAt } },
    });
    expect(status.containerStatuses?.[0]?.state?.terminated).not.toHaveProperty('message');
  });

  it('carries the termination message, and says the pod is not ready because it completed', () => {
    const status = podStatus(state([exited(1, 'Error: snapshot file not found\n')]), undefined, now);
    expect(status.containerStatuses?.[0]?.state?.terminated?.message).toBe(
      'Error: snapshot file not found\n',
    );
    for (const type of ['Ready', 'ContainersReady'])
      expect(status.conditions?.find((c) => c.type === type)).toMatchObject({
        status: 'False',
        reason: 'PodCompleted',
      });
  });

  it('is not ready while a container that was ready has terminated', () => {
    const status = podStatus(state([{ ...exited(0), ready: true }]), undefined, now);
    expect(conditionOf(status, 'Ready')).toBe('False');
  });

  it('says ContainersNotReady while a container still runs', () => {
    const status = podStatus(state([exited(0), container({ startedAt: now })]), undefined, now);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ContainersNotReady');
  });
});

describe('statusChanged', () => {
  it('sees a container terminate, and which exit code and message it terminated with', () => {
    const at = (containers: ContainerState[]) => podStatus(state(containers), undefined, now);
    expect(statusChanged(at([running]), at([exited(0)]))).toBe(true);
    expect(statusChanged(at([exited(0), running]), at([exited(1), running]))).toBe(true);
    expect(statusChanged(at([exited(1)]), at([exited(1, 'Error: no such file')]))).toBe(true);
    expect(statusChanged(at([exited(1, 'Error')]), at([exited(1, 'Error')]))).toBe(false);
  });

  it('ignores timestamps but sees readiness, restarts and phase', () => {
    const ready = podStatus(state([container({ startedAt: now, ready: true })]), undefined, now);
    const later = podStatus(
      state([container({ startedAt: new Date(now.getTime() + 5000), ready: true })]),
      undefined,
      new Date(now.getTime() + 5000),
    );
    expect(statusChanged(ready, later)).toBe(false);
    expect(statusChanged(ready, podStatus(state([container({ startedAt: now })]), undefined, now))).toBe(
      true,
    );
    expect(
      statusChanged(
        ready,
        podStatus(state([container({ startedAt: now, ready: true, restartCount: 1 })]), undefined, now),
      ),
    ).toBe(true);
    expect(statusChanged(undefined, ready)).toBe(true);
  });

  it('sees why a container waits, and nothing else while the reason holds', () => {
    const waiting = (message: string, at: Date) =>
      podStatus(state([container({ waiting: { reason: 'ContainerCreating', message } })]), undefined, at);
    const missing = waiting('secret ca of volume pki not found', now);
    expect(
      statusChanged(missing, waiting('secret ca of volume pki not found', new Date(now.getTime() + 9000))),
    ).toBe(false);
    expect(statusChanged(missing, waiting('volume host: only secret, configMap … are supported', now))).toBe(
      true,
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { ComponentObservation, StatusInput } from './machine-status.ts';
import fc from 'fast-check';
import {
  agentStatus,
  componentState,
  shouldWriteStatus,
  withFailedPass,
  withSince,
} from './machine-status.ts';
import type { AgentStatus } from './machine-status.ts';
import type { DesiredFile } from './desired-state.ts';

const seen = (over: Partial<ComponentObservation>): ComponentObservation => ({
  current: 'v1',
  running: true,
  health: 'Healthy',
  hasHealthCheck: true,
  healthMessage: '',
  refusal: undefined,
  ...over,
});

describe('component state', () => {
  it.each([
    { obs: undefined, converging: false, state: 'Pending' },
    { obs: undefined, converging: true, state: 'Installing' },
    { obs: seen({ current: 'v0' }), converging: true, state: 'Installing' },
    { obs: seen({ running: false }), converging: false, state: 'Stopped' },
    { obs: seen({ health: 'Failed' }), converging: false, state: 'Failed' },
    { obs: seen({ health: 'Unknown' }), converging: false, state: 'Installing' },
    { obs: seen({}), converging: false, state: 'Running' },
    { obs: seen({ current: 'v0', refusal: 'sha mismatch' }), converging: false, state: 'Running' },
    { obs: seen({ current: undefined, refusal: 'sha mismatch' }), converging: false, state: 'Failed' },
  ])('$state for $obs (converging $converging)', ({ obs, converging, state }) => {
    expect(componentState('kubelet', 'v1', obs, converging).state).toBe(state);
  });
  it.each([
    [{ reported: '1' }, 'Running', undefined, undefined],
    [{ reported: 'v1' }, 'Running', undefined, undefined],
    [{ reported: '2' }, 'Failed', '2', 'versionCheck: the installed binary reports 2, not v1'],
    [
      { error: '/usr/bin/kubelet exited 1' },
      'Failed',
      'v1',
      'versionCheck failed: /usr/bin/kubelet exited 1',
    ],
  ] as const)('versionCheck %j: %s', (versionReport, state, version, message) => {
    const result = componentState('kubelet', 'v1', seen({ versionReport }), false);
    expect(result.state).toBe(state);
    if (version) expect(result.version).toBe(version);
    expect(result.message).toBe(message);
  });
});

const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  desired: {
    revision: 'r2',
    components: [],
    files: [],
    restartGeneration: undefined,
    restartComponent: undefined,
    reinstallComponent: undefined,
    problems: [],
  },
  components: new Map(),
  files: new Map(),
  keyedDigests: new Map(),
  error: undefined,
  removing: [],
  drift: undefined,
  converging: false,
  operation: undefined,
  previous: { revision: { current: 'r1' } },
  agentVersion: '0.0.0',
  generation: 3,
  remediated: { restart: 0, reinstall: 0, reboot: 0 },
  bootID: 'boot-1',
  now: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

describe('agent status', () => {
  it('moves revision.current only when everything is in place and healthy', () => {
    expect(agentStatus(input()).revision).toEqual({ current: 'r2', desired: 'r2' });
    const failing = input({ error: { reason: 'InstallFailed', message: 'boom' } });
    expect(agentStatus(failing).revision).toEqual({ current: 'r1', desired: 'r2' });
    const ready = agentStatus(failing).conditions?.find((c) => c.type === 'AgentReady');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: 'boom',
      observedGeneration: 3,
    });
  });

  it('does not move revision.current while something the spec dropped is still being removed', () => {
    const status = agentStatus(input({ removing: ['sidecar', '/etc/old.conf'] }));
    expect(status.revision).toEqual({ current: 'r1', desired: 'r2' });
    expect(status.conditions?.find((c) => c.type === 'UpToDate')).toMatchObject({
      status: 'False',
      reason: 'Converging',
      message: 'converging to revision r2 (removing sidecar, /etc/old.conf)',
    });
  });

  it('claims no revision while the host is being changed toward another one, nor after that was cut short', () => {
    const failing = { error: { reason: 'InstallFailed', message: 'boom' } };
    const halfway = { removing: ['/etc/old.conf'] }; // the host is not at the desired revision yet
    // Not started yet (a download refused): the host still runs all of r1.
    expect(agentStatus(input(failing)).revision).toEqual({ current: 'r1', desired: 'r2' });
    // Changing the host toward r2: it runs neither r1 nor r2 in full.
    const changing = agentStatus(input({ ...halfway, converging: true }));
    expect(changing.revision).toEqual({ desired: 'r2' });
    // The change failed, or the agent was killed and the spec went back to r1: still no claim, until the
    // agent has put the host back at r1.
    expect(agentStatus(input({ ...failing, previous: changing })).revision).toEqual({ desired: 'r2' });
    const backToR1 = { ...input().desired, revision: 'r1' };
    expect(agentStatus(input({ ...halfway, desired: backToR1, previous: changing })).revision).toEqual({
      desired: 'r1',
    });
    expect(agentStatus(input({ desired: backToR1, previous: changing })).revision).toEqual({
      current: 'r1',
      desired: 'r1',
    });
    // A remediation at the revision the host runs keeps it.
    const remediating = input({ ...halfway, converging: true, desired: backToR1 });
    expect(agentStatus(remediating).revision).toEqual({ current: 'r1', desired: 'r1' });
  });

  it('writes on change or when the heartbeat is due, never just because time passed', () => {
    const first = agentStatus(input());
    // The previous status (as read back) carries the conditions, so their transition times stay put.
    const later = agentStatus(input({ now: new Date('2026-01-01T00:01:00Z'), previous: first }));
    const written = { status: first, at: 0 };
    expect(shouldWriteStatus(later, written, 60_000, 300_000)).toBe(false);
    expect(shouldWriteStatus(later, written, 300_000, 300_000)).toBe(true);
    const changed = agentStatus(input({ converging: true, previous: first }));
    expect(shouldWriteStatus(changed, written, 1, 300_000)).toBe(true);
    expect(shouldWriteStatus(first, undefined, 0, 300_000)).toBe(true);
  });
});

describe('component since', () => {
  const now = new Date('2026-01-01T00:05:00Z');
  const before = { name: 'kubelet', version: 'v1', state: 'Running' as const, since: '2026-01-01T00:00:00Z' };
  it.each([
    { name: 'same state and version keeps since', next: { ...before }, since: before.since },
    {
      name: 'a new state restarts it',
      next: { ...before, state: 'Failed' as const },
      since: '2026-01-01T00:05:00Z',
    },
    { name: 'a new version restarts it', next: { ...before, version: 'v2' }, since: '2026-01-01T00:05:00Z' },
    {
      name: 'a component first seen starts now',
      next: { ...before, name: 'containerd' },
      since: '2026-01-01T00:05:00Z',
    },
  ])('$name', ({ next, since }) => {
    const { since: _drop, ...state } = next;
    expect(withSince(state, [before], now).since).toBe(since);
  });

  it('an unchanged host yields an unchanged status, so no write (property)', () => {
    const states = ['Pending', 'Installing', 'Running', 'Stopped', 'Failed'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...states),
        fc.string(),
        fc.integer({ min: 1, max: 10_000 }),
        (state, version, s) => {
          const first = withSince({ name: 'c', version, state }, undefined, new Date(0));
          const later = withSince({ name: 'c', version, state }, [first], new Date(s * 1000));
          expect(later).toEqual(first);
        },
      ),
    );
  });

  it('is reported in status with the remediation generations and the boot ID', () => {
    const status = agentStatus(
      input({
        desired: {
          revision: 'r2',
          components: [
            {
              name: 'kubelet',
              version: 'v1',
              artifact: { url: 'u', sha256: 's' },
              install: { method: 'Archive' },
              onChange: 'restart',
            },
          ],
          files: [],
          restartGeneration: undefined,
          restartComponent: undefined,
          reinstallComponent: undefined,
          problems: [],
        },
        components: new Map([['kubelet', seen({})]]),
        remediated: { restart: 2, reinstall: 1, reboot: 4 },
      }),
    );
    expect(status.components).toEqual([
      { name: 'kubelet', version: 'v1', state: 'Running', since: '2026-01-01T00:00:00Z' },
    ]);
    expect(status).toMatchObject({
      observedRestartGeneration: 2,
      observedReinstallGeneration: 1,
      observedRebootGeneration: 4,
      bootID: 'boot-1',
    });
  });
});

describe('files in status', () => {
  const file = (path: string, secret: boolean): DesiredFile => ({
    path,
    content: 'c',
    sha256: 'sha-of-c',
    mode: secret ? 0o600 : 0o644,
    secret,
    onChange: undefined,
  });

  it('publishes the sha256 of a file, but only a keyed digest of a file from a Secret', () => {
    const status = agentStatus(
      input({
        desired: { ...input().desired, files: [file('/etc/conf', false), file('/etc/token', true)] },
        files: new Map([
          ['/etc/conf', 'sha-of-c'],
          ['/etc/token', 'sha-of-c'],
        ]),
        keyedDigests: new Map([['/etc/token', 'hmac-of-c']]),
      }),
    );
    expect(status.files).toEqual([
      { path: '/etc/conf', sha256: 'sha-of-c' },
      { path: '/etc/token', hmacSha256: 'hmac-of-c' },
    ]);
    expect(JSON.stringify(status)).not.toContain('"sha256":"sha-of-c","path":"/etc/token"');
    expect(status.revision?.current).toBe('r2');
  });
});

describe('messages too long for the status schema', () => {
  it('are cut, so the apiserver does not refuse the whole write', () => {
    const huge = 'x'.repeat(100_000);
    const status = agentStatus(
      input({
        desired: {
          ...input().desired,
          components: [
            {
              name: 'kubelet',
              version: 'v1',
              artifact: { url: 'u', sha256: 's' },
              install: { method: 'Archive' },
              onChange: 'restart',
            },
          ],
        },
        components: new Map([['kubelet', seen({ health: 'Failed', healthMessage: huge })]]),
        error: { reason: 'InstallFailed', message: huge },
        operation: { type: 'Update', state: 'Failed', progress: 0, message: huge },
      }),
    );
    expect(status.components?.[0]?.message?.length).toBeLessThanOrEqual(4096);
    expect(status.lastOperation?.message?.length).toBeLessThanOrEqual(4096);
    for (const condition of status.conditions ?? [])
      expect(condition.message.length).toBeLessThanOrEqual(4096);
    expect(status.conditions?.find((c) => c.type === 'AgentReady')?.message.endsWith('…')).toBe(true);
  });
});

describe('a pass that failed before it could report', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const failure = { reason: 'ConvergeFailed', message: 'EISDIR: illegal operation on a directory' };
  const meta = { agentVersion: '1.2.3', generation: 4, now };

  it('says so with AgentReady False, keeping what the agent last reported', () => {
    const previous = agentStatus(input());
    const withOperatorCondition: AgentStatus = {
      ...previous,
      conditions: [
        ...(previous.conditions ?? []),
        {
          type: 'Drained',
          status: 'True',
          reason: 'Drained',
          message: '',
          lastTransitionTime: now.toISOString(),
        },
      ],
    };
    const status = withFailedPass(withOperatorCondition, failure, meta);
    expect(status.conditions?.find((c) => c.type === 'AgentReady')).toMatchObject({
      status: 'False',
      ...failure,
      observedGeneration: 4,
    });
    expect(status.conditions?.map((c) => c.type).sort()).toEqual([
      'AgentReady',
      'FilesInSync',
      'UpToDate',
      'Updating',
    ]);
    expect(status.revision).toEqual(previous.revision);
    expect(status.bootID).toBe('boot-1');
    expect(status.agent).toEqual({ version: '1.2.3', lastHeartbeatTime: '2026-01-01T00:10:00Z' });
  });

  it('says so on a Machine the agent never reported on', () => {
    const status = withFailedPass(undefined, { reason: 'ConvergeFailed', message: 'y'.repeat(50_000) }, meta);
    expect(Object.keys(status).sort()).toEqual(['agent', 'conditions']);
    expect(status.conditions).toHaveLength(1);
    expect(status.conditions?.[0]?.message.length).toBeLessThanOrEqual(4096);
  });
});

import { FakeClock } from '@kok/reconcile';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../agent-metrics.ts';
import type { AgentStatus } from '../machine-status.ts';
import { StatusReporter, statusWriteReason } from './status-reporter.ts';

const HEARTBEAT = 300_000;
const status = (revision: string, heartbeat = '2026-01-01T00:00:00Z'): AgentStatus => ({
  revision: { current: revision },
  agent: { version: '1.0.0', lastHeartbeatTime: heartbeat },
  conditions: [],
});

describe('statusWriteReason', () => {
  const written = { status: status('r1'), at: 1_000 };
  it.each([
    ['the first status is a change', status('r1'), undefined, 1_000, 'change'],
    [
      'the same status again, with only a newer heartbeat, is not written',
      status('r1', '2026-01-01T00:01:00Z'),
      written,
      61_000,
      undefined,
    ],
    [
      'the same status once the heartbeat interval passed is a heartbeat',
      status('r1'),
      written,
      1_000 + HEARTBEAT,
      'heartbeat',
    ],
    ['a different status is a change at once', status('r2'), written, 1_001, 'change'],
    [
      'a different status after the heartbeat interval is a change',
      status('r2'),
      written,
      1_000 + HEARTBEAT,
      'change',
    ],
  ] as const)('%s', (_name, next, last, now, expected) => {
    expect(statusWriteReason(next, last, now, HEARTBEAT)).toBe(expected);
  });
});

function rig(failWrites = false) {
  const clock = new FakeClock();
  const metrics = new AgentMetrics();
  const writes: AgentStatus[] = [];
  const reporter = new StatusReporter({
    clock,
    heartbeatIntervalMs: HEARTBEAT,
    agentVersion: '1.0.0',
    write: (s) => {
      if (failWrites) return Promise.reject(new Error('apiserver unavailable'));
      writes.push(s);
      return Promise.resolve();
    },
    writes: metrics.statusWrites,
    log: pino({ level: 'silent' }),
  });
  const counted = async () =>
    Object.fromEntries((await metrics.statusWrites.get()).values.map((v) => [v.labels.reason, v.value]));
  return { clock, reporter, writes, counted };
}

describe('StatusReporter', () => {
  it('writes what is new and heartbeats, counted by reason', async () => {
    const r = rig();
    await r.reporter.report(status('r1'));
    await r.reporter.report(status('r1'));
    r.clock.advance(HEARTBEAT);
    await r.reporter.report(status('r1'));
    await r.reporter.report(status('r2'));
    expect(r.writes.map((s) => s.revision?.current)).toEqual(['r1', 'r1', 'r2']);
    expect(r.reporter.lastWritten?.revision?.current).toBe('r2');
    expect(await r.counted()).toEqual({ change: 2, heartbeat: 1 });
  });

  it('reports a failed pass as AgentReady False, keeping what it last said', async () => {
    const r = rig();
    await r.reporter.report(status('r1'));
    await r.reporter.reportFailedPass(new Error('boom'), { status: undefined, generation: 3 });
    const failed = r.writes[1];
    expect(failed?.revision?.current).toBe('r1');
    expect(failed?.conditions).toEqual([
      expect.objectContaining({
        type: 'AgentReady',
        status: 'False',
        reason: 'ConvergeFailed',
        message: 'convergence pass failed: boom',
        observedGeneration: 3,
      }),
    ]);
  });

  it('does not report a failure the pass already wrote, nor the same failure twice', async () => {
    const r = rig();
    const written = new Error('install failed');
    r.reporter.failureReported(written);
    await r.reporter.reportFailedPass(written, { status: status('r0'), generation: 1 });
    expect(r.writes).toEqual([]);
    await r.reporter.reportFailedPass(new Error('boom'), { status: status('r0'), generation: 1 });
    await r.reporter.reportFailedPass(new Error('boom'), { status: status('r0'), generation: 1 });
    expect(r.writes).toHaveLength(1);
  });

  it('a failed pass whose report cannot be written does not throw; a status report does', async () => {
    const r = rig(true);
    await expect(
      r.reporter.reportFailedPass(new Error('boom'), { status: undefined, generation: 1 }),
    ).resolves.toBeUndefined();
    await expect(r.reporter.report(status('r1'))).rejects.toThrow('apiserver unavailable');
    expect(r.reporter.lastWritten).toBeUndefined();
  });
});

import type { MachineSpec } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { ConvergencePlan } from '../convergence-plan.ts';
import type { DesiredState } from '../desired-state.ts';
import type { JournalState } from '../journal.ts';
import { EMPTY_JOURNAL } from '../journal.ts';
import type { RemediationInput, RemediationPlan } from './remediation-plan.ts';
import {
  awaitingOwnReboot,
  operationStart,
  planRemediation,
  remediationDone,
  remediationScope,
  remediationUnderway,
} from './remediation-plan.ts';

const spec = (generations: Partial<MachineSpec>): MachineSpec => ({ ...generations }) as MachineSpec;
const journal = (over: Partial<JournalState>): JournalState => ({ ...EMPTY_JOURNAL, ...over });
const input = (over: Partial<RemediationInput>): RemediationInput => ({
  spec: spec({}),
  status: undefined,
  journal: EMPTY_JOURNAL,
  bootID: 'boot-1',
  rebootIssued: undefined,
  ...over,
});
const nothing: RemediationPlan = {
  reboot: { kind: 'none' },
  reinstallGeneration: undefined,
  remediation: undefined,
};

describe('planRemediation', () => {
  const cases: { name: string; input: RemediationInput; expected: RemediationPlan }[] = [
    { name: 'nothing asked, nothing done', input: input({}), expected: nothing },
    {
      name: 'generations already carried out are not repeated',
      input: input({
        spec: spec({ rebootGeneration: 2, reinstallGeneration: 1, restartGeneration: 4 }),
        journal: journal({ rebootGeneration: 2, reinstallGeneration: 1, restartGeneration: 4 }),
      }),
      expected: nothing,
    },
    {
      name: 'a fresh journal counts from what the status observed',
      input: input({
        spec: spec({ rebootGeneration: 2 }),
        status: { observedRebootGeneration: 2 } as RemediationInput['status'],
      }),
      expected: nothing,
    },
    {
      name: 'a restart',
      input: input({ spec: spec({ restartGeneration: 1 }) }),
      expected: { reboot: { kind: 'none' }, reinstallGeneration: undefined, remediation: 'Restart' },
    },
    {
      name: 'a reinstall comes before a restart asked at once',
      input: input({ spec: spec({ restartGeneration: 1, reinstallGeneration: 3 }) }),
      expected: { reboot: { kind: 'none' }, reinstallGeneration: 3, remediation: 'Reinstall' },
    },
    {
      name: 'a reboot comes first, alone',
      input: input({ spec: spec({ rebootGeneration: 1, reinstallGeneration: 3 }) }),
      expected: {
        reboot: { kind: 'reboot', generation: 1, bootIDBefore: 'boot-1' },
        reinstallGeneration: undefined,
        remediation: undefined,
      },
    },
    {
      name: 'a reboot this agent issued: wait for the host to go down',
      input: input({
        spec: spec({ rebootGeneration: 1 }),
        journal: journal({ reboot: { generation: 1, bootIDBefore: 'boot-1' } }),
        rebootIssued: 1,
      }),
      expected: {
        reboot: { kind: 'wait', generation: 1 },
        reinstallGeneration: undefined,
        remediation: undefined,
      },
    },
    {
      name: 'a journaled reboot the host never went down for (the agent died) is issued again',
      input: input({
        spec: spec({ rebootGeneration: 1 }),
        journal: journal({ reboot: { generation: 1, bootIDBefore: 'boot-1' } }),
      }),
      expected: {
        reboot: { kind: 'reboot', generation: 1, bootIDBefore: 'boot-1' },
        reinstallGeneration: undefined,
        remediation: undefined,
      },
    },
    {
      name: 'a new boot ID completes the reboot; a reinstall asked meanwhile follows in the same pass',
      input: input({
        spec: spec({ rebootGeneration: 1, reinstallGeneration: 2 }),
        journal: journal({ reboot: { generation: 1, bootIDBefore: 'boot-0' } }),
      }),
      expected: {
        reboot: { kind: 'completed', generation: 1, bootID: 'boot-1' },
        reinstallGeneration: 2,
        remediation: 'Reboot',
      },
    },
    {
      name: 'a newer reboot asked while the last one completes waits for the next pass',
      input: input({
        spec: spec({ rebootGeneration: 2 }),
        journal: journal({ reboot: { generation: 1, bootIDBefore: 'boot-0' } }),
      }),
      expected: {
        reboot: { kind: 'completed', generation: 1, bootID: 'boot-1' },
        reinstallGeneration: undefined,
        remediation: 'Reboot',
      },
    },
  ];
  it.each(cases)('$name', ({ input, expected }) => {
    expect(planRemediation(input)).toEqual(expected);
  });
});

describe('remediation messages', () => {
  const desired = { restartComponent: 'kubelet', reinstallComponent: undefined } as DesiredState;
  it.each([
    ['Restart', 'restarting kubelet', 'kubelet restarted'],
    [
      'Reinstall',
      'reinstalling every component, then restarting them',
      'every component reinstalled and restarted',
    ],
    ['Reboot', 'host rebooted; starting every service', 'host rebooted and every service started'],
  ] as const)('%s: "%s", then "%s"', (type, underway, done) => {
    const scope = remediationScope(type, desired);
    expect(remediationUnderway(type, scope)).toBe(underway);
    expect(remediationDone(type, scope)).toBe(done);
  });
});

describe('operationStart', () => {
  const desired = {
    revision: 'r7',
    restartComponent: undefined,
    reinstallComponent: 'kubelet',
  } as DesiredState;
  const plan = (over: Partial<ConvergencePlan>): ConvergencePlan => ({
    steps: [{ kind: 'start', component: 'kubelet' }],
    owedBy: new Map(),
    restartGeneration: undefined,
    reinstallGeneration: undefined,
    remediation: undefined,
    ...over,
  });
  it.each([
    {
      name: 'a reboot starts an operation of its own',
      plan: plan({ steps: [{ kind: 'reboot', generation: 3, bootIDBefore: 'boot-1' }] }),
      event: {
        kind: 'started',
        type: 'Reboot',
        progress: 0,
        message: 'rebooting for rebootGeneration 3 (boot ID boot-1)',
      },
    },
    {
      name: 'a reinstall goes on',
      plan: plan({ remediation: 'Reinstall', reinstallGeneration: 2 }),
      event: {
        kind: 'progressed',
        type: 'Reinstall',
        progress: 0,
        message: 'reinstalling kubelet, then restarting it',
      },
    },
    {
      name: 'the services after a reboot are started as part of the reboot',
      plan: plan({ remediation: 'Reboot' }),
      event: {
        kind: 'progressed',
        type: 'Reboot',
        progress: 0,
        message: 'host rebooted; starting every service',
      },
    },
    {
      name: 'anything else is an update to the revision',
      plan: plan({}),
      event: { kind: 'started', type: 'Update', progress: 0, message: 'converging to revision r7' },
    },
  ])('$name', ({ plan, event }) => {
    expect(operationStart(plan, desired)).toEqual(event);
  });
});

describe('awaitingOwnReboot: a pass reads nothing of a host going down for its own reboot', () => {
  const pending = journal({ reboot: { generation: 2, bootIDBefore: 'boot-1' } });
  it.each([
    {
      name: 'this process issued it, same boot',
      over: { journal: pending, rebootIssued: 2 },
      awaiting: true,
    },
    {
      name: 'journaled by an agent that died',
      over: { journal: pending, rebootIssued: undefined },
      awaiting: false,
    },
    { name: 'issued for another generation', over: { journal: pending, rebootIssued: 1 }, awaiting: false },
    {
      name: 'the host came back',
      over: { journal: pending, rebootIssued: 2, bootID: 'boot-2' },
      awaiting: false,
    },
    { name: 'no reboot under way', over: { rebootIssued: 2 }, awaiting: false },
  ])('$name → $awaiting', ({ over, awaiting }) => {
    expect(awaitingOwnReboot(input(over))).toBe(awaiting);
  });
});

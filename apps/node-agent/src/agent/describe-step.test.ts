import { describe, expect, it } from 'vitest';
import type { Step } from '../convergence-plan.ts';
import type { DesiredComponent, DesiredFile } from '../desired-state.ts';
import { describeStep, failureReason } from './describe-step.ts';

const kubelet: DesiredComponent = {
  name: 'kubelet',
  version: '1.36.0',
  artifact: { url: 'http://a/kubelet', sha256: 'a'.repeat(64) },
  install: { method: 'Archive', path: '/usr/local/lib/kubelet' },
  service: { type: 'Process', command: ['kubelet'] },
  onChange: 'restart',
};
const config: DesiredFile = {
  path: '/etc/kubelet.yaml',
  content: 'x',
  sha256: 'b'.repeat(64),
  mode: 0o644,
  secret: false,
  onChange: undefined,
};

describe('describeStep and failureReason', () => {
  const cases: { step: Step; words: string; reason: string }[] = [
    {
      step: { kind: 'reboot', generation: 2, bootIDBefore: 'boot-1' },
      words: 'reboot the host for rebootGeneration 2',
      reason: 'RebootFailed',
    },
    {
      step: { kind: 'awaitReboot', generation: 2 },
      words: 'wait for the host to go down for rebootGeneration 2',
      reason: 'RebootFailed',
    },
    {
      step: { kind: 'rebootCompleted', generation: 2, bootID: 'boot-2' },
      words: 'record rebootGeneration 2 done (boot ID boot-2)',
      reason: 'RebootFailed',
    },
    {
      step: { kind: 'reinstall', generation: 3, components: [kubelet] },
      words: 'reinstall kubelet 1.36.0 for reinstallGeneration 3',
      reason: 'InstallFailed',
    },
    {
      step: { kind: 'install', component: kubelet },
      words: 'install kubelet 1.36.0',
      reason: 'InstallFailed',
    },
    {
      step: { kind: 'writeFile', file: config, drift: false, previousSha256: undefined },
      words: 'write /etc/kubelet.yaml',
      reason: 'FileWriteFailed',
    },
    {
      step: { kind: 'writeFile', file: config, drift: true, previousSha256: 'c'.repeat(64) },
      words: 'restore /etc/kubelet.yaml',
      reason: 'FileWriteFailed',
    },
    {
      step: { kind: 'activate', component: kubelet, previousVersion: '1.35.0' },
      words: 'switch kubelet to 1.36.0',
      reason: 'ActivateFailed',
    },
    {
      step: { kind: 'serviceAction', component: 'kubelet', action: 'reload' },
      words: 'reload kubelet',
      reason: 'ServiceFailed',
    },
    { step: { kind: 'start', component: 'kubelet' }, words: 'start kubelet', reason: 'ServiceFailed' },
    {
      step: { kind: 'collectGarbage', component: 'kubelet' },
      words: 'remove old versions of kubelet',
      reason: 'ServiceFailed',
    },
    {
      step: { kind: 'removeComponent', component: 'cni', service: undefined, installPath: undefined },
      words: 'remove cni (no longer in the spec)',
      reason: 'RemoveFailed',
    },
    {
      step: { kind: 'forgetComponent', component: 'cni' },
      words: 'forget cni (removed)',
      reason: 'RemoveFailed',
    },
    {
      step: { kind: 'removeFile', path: '/etc/old' },
      words: 'delete /etc/old (no longer in the spec)',
      reason: 'FileRemoveFailed',
    },
    {
      step: { kind: 'forgetFile', path: '/etc/old', kept: true },
      words: 'forget /etc/old (changed on the host, kept)',
      reason: 'FileRemoveFailed',
    },
    {
      step: { kind: 'forgetFile', path: '/etc/old', kept: false },
      words: 'forget /etc/old (gone)',
      reason: 'FileRemoveFailed',
    },
  ];
  it.each(cases)('$words → $reason', ({ step, words, reason }) => {
    expect(describeStep(step)).toBe(words);
    expect(failureReason(step)).toBe(reason);
  });

  it('has a case for every kind of step', () => {
    // A Record over the union: a new kind of step does not compile until it is listed here.
    const kinds: Record<Step['kind'], true> = {
      reboot: true,
      awaitReboot: true,
      rebootCompleted: true,
      reinstall: true,
      install: true,
      writeFile: true,
      activate: true,
      serviceAction: true,
      start: true,
      collectGarbage: true,
      removeComponent: true,
      forgetComponent: true,
      removeFile: true,
      forgetFile: true,
    };
    expect(new Set(cases.map((c) => c.step.kind))).toEqual(new Set(Object.keys(kinds)));
  });
});

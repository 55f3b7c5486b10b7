/** A plan step in words (logs, status messages) and the reason a failure of it is reported under. */
import type { Step } from '../convergence-plan.ts';

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'reboot':
      return `reboot the host for rebootGeneration ${step.generation}`;
    case 'awaitReboot':
      return `wait for the host to go down for rebootGeneration ${step.generation}`;
    case 'rebootCompleted':
      return `record rebootGeneration ${step.generation} done (boot ID ${step.bootID})`;
    case 'reinstall': {
      const components = step.components.map((c) => `${c.name} ${c.version}`).join(', ');
      return `reinstall ${components || 'nothing'} for reinstallGeneration ${step.generation}`;
    }
    case 'install':
      return `install ${step.component.name} ${step.component.version}`;
    case 'writeFile':
      return `${step.drift ? 'restore' : 'write'} ${step.file.path}`;
    case 'activate':
      return `switch ${step.component.name} to ${step.component.version}`;
    case 'serviceAction':
      return `${step.action} ${step.component}`;
    case 'start':
      return `start ${step.component}`;
    case 'collectGarbage':
      return `remove old versions of ${step.component}`;
    case 'removeComponent':
      return `remove ${step.component} (no longer in the spec)`;
    case 'forgetComponent':
      return `forget ${step.component} (removed)`;
    case 'removeFile':
      return `delete ${step.path} (no longer in the spec)`;
    case 'forgetFile':
      return `forget ${step.path} (${step.kept ? 'changed on the host, kept' : 'gone'})`;
  }
}

/** The AgentReady reason when `step` fails. */
export function failureReason(step: Step): string {
  switch (step.kind) {
    case 'reboot':
    case 'awaitReboot':
    case 'rebootCompleted':
      return 'RebootFailed';
    case 'reinstall':
    case 'install':
      return 'InstallFailed';
    case 'writeFile':
      return 'FileWriteFailed';
    case 'activate':
      return 'ActivateFailed';
    case 'removeComponent':
    case 'forgetComponent':
      return 'RemoveFailed';
    case 'removeFile':
    case 'forgetFile':
      return 'FileRemoveFailed';
    default:
      return 'ServiceFailed';
  }
}

/**
 * Carries out one step of a convergence plan on the host. Every step is
 * safe to run again: a pass killed halfway is finished by the next one, and
 * what a step owes a service is journaled before the step changes anything.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventRecorder } from '@kok/reconcile';
import type { AgentMetrics } from '../agent-metrics.ts';
import { fsyncDirectory, isMissing, writeFileAtomic } from '../atomic-file.ts';
import type { ConvergencePlan, Step } from '../convergence-plan.ts';
import type { DesiredComponent, DesiredState } from '../desired-state.ts';
import { withFileBeingWritten, withFileWritten } from '../host-inventory.ts';
import { runRebootCommand, simulateNewBoot, SIMULATE_REBOOT } from '../host-reboot.ts';
import { withPendingAction, withoutPendingAction, withTouchedDir } from '../journal.ts';
import type { MachineObject } from '../resources.ts';
import type { HealthChecks } from './health-checks.ts';
import type { AgentHost } from './host.ts';

export interface StepDeps {
  readonly host: AgentHost;
  readonly health: HealthChecks;
  readonly events: EventRecorder;
  readonly metrics: AgentMetrics;
  /** The Machine events are recorded on, while the cache has it. */
  readonly machine: () => MachineObject | undefined;
  /** The component's artifact was refused: it is not switched to. */
  readonly isRefused: (component: DesiredComponent) => boolean;
  /** A file someone changed on the host was written back. */
  readonly onDriftRestored: (path: string) => void;
  /** A component or file the plan removes is gone. */
  readonly onRemoved: (componentOrPath: string) => void;
  /** Run through `sh -c` to reboot; `simulate` only stops the services and gives the host a new boot ID. */
  readonly rebootCommand: string;
  readonly bootIDPath: string;
  /** The reboot command of this generation ran: the host is going down. */
  readonly onRebootIssued: (generation: number) => void;
}

/** Whether a step changed what the host runs, or only prepared or recorded something. */
export type StepEffect = 'changed' | 'unchanged';

export async function executeStep(
  deps: StepDeps,
  step: Step,
  plan: ConvergencePlan,
  desired: DesiredState,
): Promise<StepEffect> {
  const { host } = deps;
  const owed = plan.owedBy.get(step);
  switch (step.kind) {
    case 'reboot': {
      // Journaled with the boot ID first, so the next boot knows it is done.
      await host.journal.update((s) => ({
        ...s,
        reboot: { generation: step.generation, bootIDBefore: step.bootIDBefore },
      }));
      const machine = deps.machine();
      if (machine)
        await deps.events.record(
          machine,
          'Normal',
          'Rebooting',
          'Reboot',
          `rebootGeneration ${step.generation}: ${deps.rebootCommand}`,
        );
      host.log.warn({ generation: step.generation, command: deps.rebootCommand }, 'rebooting the host');
      if (deps.rebootCommand === SIMULATE_REBOOT) await simulateReboot(deps, desired);
      else await runRebootCommand(deps.rebootCommand, host.execution.command);
      deps.onRebootIssued(step.generation);
      return 'changed';
    }
    case 'awaitReboot':
      return 'unchanged';
    case 'rebootCompleted': {
      await host.journal.update((s) => ({ ...s, reboot: undefined, rebootGeneration: step.generation }));
      host.log.info({ generation: step.generation, bootID: step.bootID }, 'host rebooted');
      const machine = deps.machine();
      if (machine)
        await deps.events.record(
          machine,
          'Normal',
          'Rebooted',
          'Reboot',
          `host is back with boot ID ${step.bootID}`,
        );
      return 'unchanged';
    }
    case 'reinstall': {
      const services = step.components.filter((c) => c.service).map((c) => c.name);
      // Journaled first: a crash after a version is replaced still restarts its service.
      await host.journal.update((s) =>
        services.reduce((acc, name) => withPendingAction(acc, name, 'restart'), s),
      );
      let effect: StepEffect = 'unchanged';
      for (const c of step.components) {
        if (deps.isRefused(c)) continue;
        await host.store.reinstall(c.name, c.version, c.artifact, host.expandInstall(c.install));
        host.log.info({ component: c.name, version: c.version }, 'reinstalled');
        effect = 'changed';
      }
      return effect;
    }
    case 'install':
      await host.store.install(
        step.component.name,
        step.component.version,
        step.component.artifact,
        host.expandInstall(step.component.install),
      );
      // Unpacked beside the running version: nothing the host runs changed yet.
      return 'unchanged';
    case 'writeFile': {
      const path = host.paths.host(step.file.path);
      await host.journal.update((s) => {
        const touched = withTouchedDir(s, dirname(path));
        return owed ? withPendingAction(touched, owed.component, owed.action) : touched;
      });
      // Recorded on both sides of the write: the agent deletes only what it wrote once the spec drops the file.
      await host.inventory.update((s) => withFileBeingWritten(s, step.file));
      await writeFileAtomic(path, step.file.content, step.file.mode);
      await host.inventory.update((s) => withFileWritten(s, step.file));
      host.lastWritten.set(step.file.path, step.file.sha256);
      if (step.drift) {
        deps.metrics.fileDrift.inc();
        deps.onDriftRestored(step.file.path);
        const machine = deps.machine();
        if (machine)
          await deps.events.record(
            machine,
            'Warning',
            'FileDriftRestored',
            'RestoreFile',
            // A Secret's content is not published, not even by its hash.
            step.file.secret
              ? `${step.file.path} was changed on the host; restored`
              : `${step.file.path} was changed on the host (sha256 ${step.previousSha256 ?? 'missing'}); restored to ${step.file.sha256}`,
          );
      }
      return 'changed';
    }
    case 'activate': {
      const { component } = step;
      if (deps.isRefused(component)) return 'unchanged';
      if (owed) await host.journal.update((s) => withPendingAction(s, owed.component, owed.action));
      await host.store.activate(component.name, component.version, component.install);
      const machine = deps.machine();
      if (machine)
        await deps.events.record(
          machine,
          'Normal',
          step.previousVersion ? 'ComponentUpgraded' : 'ComponentInstalled',
          'Install',
          `${component.name} ${step.previousVersion ? `${step.previousVersion} → ` : ''}${component.version}`,
        );
      return 'changed';
    }
    case 'serviceAction': {
      // Only what the journal owes: a planned action whose mutation was skipped (a refused artifact) is not owed.
      if (!host.journal.state.pending[step.component]) return 'unchanged';
      const component = desired.components.find((c) => c.name === step.component);
      if (component?.service) {
        const definition = host.serviceDefinition(component);
        if (step.action === 'restart') await host.services.restart(definition);
        else await host.services.reload(definition);
        deps.health.reset(component.name);
      }
      await host.journal.update((s) => withoutPendingAction(s, step.component));
      return 'changed';
    }
    case 'start': {
      const component = desired.components.find((c) => c.name === step.component);
      if (component?.service) {
        await host.services.start(host.serviceDefinition(component));
        // A first start gets a fresh verdict. Starting one that exited by itself does not: a service that keeps
        // exiting must end Failed (its checks keep failing), not look freshly started on every pass.
        if (!host.startedOnce.has(component.name)) deps.health.reset(component.name);
        else host.log.warn({ component: component.name }, 'started again a service that exited');
        host.startedOnce.add(component.name);
      }
      return 'changed';
    }
    case 'collectGarbage': {
      const removed = await host.store.collectGarbage(step.component);
      if (removed.length) host.log.info({ component: step.component, removed }, 'removed old versions');
      return 'unchanged';
    }
    case 'removeComponent': {
      const name = step.component;
      const version = await host.store.currentVersion(name);
      if (step.service) await host.services.remove({ name, unit: step.service.unit });
      await host.store.deactivate(name, step.installPath);
      await host.forgetComponent(name);
      deps.onRemoved(name);
      host.log.info({ component: name, version }, 'removed: no longer in the Machine spec');
      const machine = deps.machine();
      if (machine)
        await deps.events.record(
          machine,
          'Normal',
          'ComponentRemoved',
          'Remove',
          `${name}${version ? ` ${version}` : ''} is no longer in the Machine spec: ` +
            `${step.service ? 'service stopped and removed, ' : ''}switched off; its unpacked versions stay for a rollback`,
        );
      return 'changed';
    }
    case 'forgetComponent':
      await host.forgetComponent(step.component);
      return 'unchanged';
    case 'removeFile': {
      const path = host.paths.host(step.path);
      if (owed) await host.journal.update((s) => withPendingAction(s, owed.component, owed.action));
      try {
        await rm(path);
        await fsyncDirectory(dirname(path));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
      await host.forgetFile(step.path);
      deps.onRemoved(step.path);
      host.log.info({ path: step.path }, 'deleted: no longer in the Machine spec');
      return 'changed';
    }
    case 'forgetFile': {
      await host.forgetFile(step.path);
      if (!step.kept) return 'unchanged';
      const message = `${step.path} is no longer in the Machine spec but was changed on the host since the agent wrote it; left in place`;
      host.log.warn({ path: step.path }, message);
      const machine = deps.machine();
      if (machine) await deps.events.record(machine, 'Warning', 'FileKept', 'Remove', message);
      return 'unchanged';
    }
  }
}

/** A reboot as the host's services see it: all stop, the boot ID changes, the next pass starts them. */
async function simulateReboot(deps: StepDeps, desired: DesiredState): Promise<void> {
  for (const component of desired.components)
    if (component.service) await deps.host.services.stop(deps.host.serviceDefinitionOrName(component));
  deps.health.resetAll();
  await simulateNewBoot(deps.bootIDPath);
}

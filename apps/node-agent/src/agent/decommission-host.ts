/**
 * A host leaving the cluster (see ../decommission.ts for when): everything
 * the agent put there goes, then the Decommissioned condition says so.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MachineConditions, setCondition } from '@kok/api/core';
import type { Clock, EventRecorder, KubeClient } from '@kok/reconcile';
import { sha256OfFile } from '../atomic-file.ts';
import type { ObservedFile } from '../convergence-plan.ts';
import { fileRemovals } from '../convergence-plan.ts';
import { removeDataPath, resolvedDataPath } from '../data-paths.ts';
import { dataPathRemovals } from '../decommission.ts';
import type { DesiredState } from '../desired-state.ts';
import { withoutDataPaths } from '../host-inventory.ts';
import { runHostCommand } from '../host-command.ts';
import { hostPathProblem, hostPaths } from '../host-paths.ts';
import type { MachineObject } from '../resources.ts';
import { machineType } from '../resources.ts';
import { errorMessage } from './error-message.ts';
import type { HealthChecks } from './health-checks.ts';
import type { AgentHost } from './host.ts';

export interface DecommissionDeps {
  readonly host: AgentHost;
  /** Owns only the Decommissioned condition, under a field manager of its own. */
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly health: HealthChecks;
  readonly clock: Clock;
}

/**
 * The host leaves: every service stopped, every component and download
 * removed, what the components keep (dataPaths) and the files written
 * from the Machine spec deleted, then the Decommissioned condition (under a field manager of its
 * own, so the agent's other conditions stay as they were). Each step is
 * idempotent, so a pass killed halfway is simply run again.
 */
export async function decommissionHost(
  deps: DecommissionDeps,
  machine: MachineObject,
  desired: DesiredState,
): Promise<void> {
  const { host } = deps;
  host.log.info(
    { components: desired.components.map((c) => c.name) },
    'decommissioning: the Machine was deleted and drained',
  );
  // The kubelet first, the runtime after it; reverse catalog order in general.
  for (const component of [...desired.components].reverse()) {
    if (!component.service) continue;
    if (component.service.beforeRemoval)
      await beforeRemoval(deps, machine, component.name, component.service.beforeRemoval);
    await host.services.stop(host.serviceDefinitionOrName(component));
  }
  for (const component of desired.components)
    await host.store.removeComponent(component.name, component.install);
  // Components the spec dropped earlier kept their versions for a rollback; a host that leaves keeps none.
  const inventory = await host.inventory.load();
  const named = new Set(desired.components.map((c) => c.name));
  const dropped = new Set([...Object.keys(inventory.components), ...(await host.store.componentNames())]);
  for (const name of [...dropped].filter((n) => !named.has(n))) {
    const recorded = inventory.components[name];
    if (recorded?.service !== false) await host.services.remove({ name, unit: recorded?.unit });
    await host.store.removeComponent(name, { method: 'Archive', path: recorded?.installPath });
  }
  await removeDataPaths(deps, machine, [
    ...desired.components,
    ...Object.entries(inventory.dataPaths ?? {}).map(([name, dataPaths]) => ({ name, dataPaths })),
  ]);
  await host.inventory.update(withoutDataPaths);
  await removeWrittenFiles(deps, machine);
  await host.store.removeDownloads();
  deps.health.clear();
  const condition = setCondition(
    undefined,
    {
      type: MachineConditions.Decommissioned,
      status: 'True',
      reason: 'SoftwareRemoved',
      message: `stopped and removed ${desired.components.map((c) => c.name).join(', ') || 'nothing (no components)'}`,
    },
    new Date(deps.clock.now()),
  );
  await deps.client.applyStatus(machineType, {
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name: host.machineName },
    status: { conditions: condition },
  } as MachineObject);
  await deps.events.record(machine, 'Normal', 'Decommissioned', 'Decommission', condition[0]?.message ?? '');
}

/**
 * What the components keep (their dataPaths), with whatever is mounted
 * below: a path that would take the agent's own directories, or whose
 * parent leads outside the root, stays and is reported.
 */
async function removeDataPaths(
  deps: DecommissionDeps,
  machine: MachineObject,
  components: readonly { name: string; dataPaths?: readonly string[] | undefined }[],
): Promise<void> {
  const { host } = deps;
  const own = hostPaths('/');
  const { remove, kept } = dataPathRemovals(components, [
    own.stateDir,
    dirname(own.componentDir('any')),
    own.logDir,
    own.runDir,
    own.unitDir,
  ]);
  const refusals = [...kept];
  for (const { component, path } of remove) {
    const resolved = await resolvedDataPath(host.paths, path);
    if ('missing' in resolved) continue;
    if ('problem' in resolved) {
      refusals.push({ component, path, reason: resolved.problem });
      continue;
    }
    const unmounted = await removeDataPath(resolved.real, undefined, deps.host.execution);
    host.log.info({ component, path, unmounted }, 'decommissioning: data path deleted');
  }
  for (const { component, path, reason } of refusals) {
    const message = `${component} dataPath ${path} left in place: ${reason}`;
    host.log.warn({ component, path }, message);
    await deps.events.record(machine, 'Warning', 'DataPathKept', 'Decommission', message);
  }
}

/** The files the agent wrote from the Machine spec, by the inventory's rule: one changed since it wrote it stays. */
async function removeWrittenFiles(deps: DecommissionDeps, machine: MachineObject): Promise<void> {
  const { host } = deps;
  const recorded = (await host.inventory.load()).files;
  const observed = new Map<string, ObservedFile>();
  for (const path of Object.keys(recorded)) {
    const problem = await hostPathProblem(host.paths, path).catch((error: unknown) => errorMessage(error));
    const full = host.paths.host(path);
    observed.set(
      path,
      problem
        ? { sha256: undefined, mode: undefined }
        : { sha256: await sha256OfFile(full), mode: undefined },
    );
  }
  for (const step of fileRemovals(recorded, observed, new Set())) {
    if (step.kind === 'removeFile') {
      await rm(host.paths.host(step.path), { force: true });
      await host.forgetFile(step.path);
      host.log.info({ path: step.path }, 'decommissioning: file deleted');
    } else if (step.kind === 'forgetFile') {
      await host.forgetFile(step.path);
      if (!step.kept) continue;
      const message = `${step.path} was changed on the host since the agent wrote it; left in place as the host leaves`;
      host.log.warn({ path: step.path }, message);
      await deps.events.record(machine, 'Warning', 'FileKept', 'Decommission', message);
    }
  }
}

/** A component's service.beforeRemoval: its failure is reported, and the host leaves all the same. */
async function beforeRemoval(
  deps: DecommissionDeps,
  machine: MachineObject,
  component: string,
  command: readonly string[],
): Promise<void> {
  const { host } = deps;
  const result = await runHostCommand(command, (text) => host.expand(text), 120_000, host.execution.command);
  if (result.ok) {
    host.log.info({ component }, 'decommissioning: beforeRemoval done');
    return;
  }
  const detail = result.lastLine ? `: ${result.lastLine}` : '';
  const message = `${component} beforeRemoval ${result.program} ${result.failure}${detail}; removing the component all the same`;
  host.log.warn({ component }, message);
  await deps.events.record(machine, 'Warning', 'BeforeRemovalFailed', 'Decommission', message);
}

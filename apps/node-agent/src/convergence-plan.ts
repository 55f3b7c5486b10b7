/**
 * Observed host in, ordered steps out. Pure, so every decision can be
 * printed and tested without a host.
 *
 * A reboot the Machine asks for (agent/remediation-plan.ts decides) comes
 * alone: the host goes down after it, so nothing else is planned, and while
 * this agent waits for that the plan only says so. The pass that finds a new
 * boot ID records the reboot first; a reinstall comes next, before anything
 * else, and owes each of its services a restart.
 *
 * Then: download and unpack every new version first (no disruption yet),
 * then take away what the Machine spec no longer names (services stopped
 * before the files they read go), then write files, then switch `current`
 * symlinks, then run the service actions those changes owe (journaled before
 * each mutation), then start whatever should run and does not, then import
 * images (an Image goes into the container runtime, which runs only from
 * here on), then collect old versions.
 */
import type { RemediationInput, RemediationPlan, RemediationType } from './agent/remediation-plan.ts';
import { planRemediation } from './agent/remediation-plan.ts';
import type { DesiredComponent, DesiredFile, DesiredState } from './desired-state.ts';
import { inRemediationScope } from './desired-state.ts';
import type { Inventory } from './host-inventory.ts';
import type { JournalState, ServiceAction } from './journal.ts';

export interface ObservedComponent {
  readonly current: string | undefined;
  readonly installed: readonly string[];
  /** Undefined when the component has no service. */
  readonly running: boolean | undefined;
}

export interface ObservedFile {
  readonly sha256: string | undefined;
  readonly mode: number | undefined;
}

export interface ObservedHost {
  /** The desired components, and those the inventory records or that have a `current` link on disk. */
  readonly components: ReadonlyMap<string, ObservedComponent>;
  /** The desired files, and those the inventory records (a recorded path the agent must not touch: undefined). */
  readonly files: ReadonlyMap<string, ObservedFile>;
}

export type Step =
  /** Journal the boot ID, then run the reboot command: the host goes down, the pass ends here. */
  | { readonly kind: 'reboot'; readonly generation: number; readonly bootIDBefore: string }
  /** This agent ran the reboot command: nothing else is done or reported until the host is down. */
  | { readonly kind: 'awaitReboot'; readonly generation: number }
  /** The host came back with a new boot ID: the reboot's generation is done. */
  | { readonly kind: 'rebootCompleted'; readonly generation: number; readonly bootID: string }
  /** Download and unpack the desired version of each again; each service among them owes a restart. */
  | {
      readonly kind: 'reinstall';
      readonly generation: number;
      readonly components: readonly DesiredComponent[];
    }
  | { readonly kind: 'install'; readonly component: DesiredComponent }
  | {
      readonly kind: 'writeFile';
      readonly file: DesiredFile;
      /** The file had the desired content before and someone changed it. */
      readonly drift: boolean;
      readonly previousSha256: string | undefined;
    }
  | {
      readonly kind: 'activate';
      readonly component: DesiredComponent;
      readonly previousVersion: string | undefined;
    }
  | { readonly kind: 'serviceAction'; readonly component: string; readonly action: ServiceAction }
  | { readonly kind: 'start'; readonly component: string }
  | { readonly kind: 'collectGarbage'; readonly component: string }
  | {
      /** Stop its service and undefine it, unlink its install path and `current`; its versions stay on disk. */
      readonly kind: 'removeComponent';
      readonly component: string;
      /** Undefined: it has no service, or the host unit it ran as is now a desired component's. */
      readonly service: { readonly unit: string | undefined } | undefined;
      /** Undefined: none recorded, or a desired component links the same path. */
      readonly installPath: string | undefined;
    }
  /** Its inventory entry goes: nothing of it is active on the host (any more). */
  | { readonly kind: 'forgetComponent'; readonly component: string }
  /** A file the agent wrote and that still holds what it wrote: deleted. */
  | { readonly kind: 'removeFile'; readonly path: string }
  /** A recorded file that is gone, or was changed since the agent wrote it (kept: not the agent's content). */
  | { readonly kind: 'forgetFile'; readonly path: string; readonly kept: boolean };

export interface PlanInput {
  readonly desired: DesiredState;
  readonly observed: ObservedHost;
  readonly journal: JournalState;
  /** sha256 per path the agent itself last wrote: a difference from it on disk is drift. */
  readonly lastWritten: ReadonlyMap<string, string>;
  /** Components whose artifact was refused (e.g. checksum mismatch) at the version given: not retried until it changes. */
  readonly refused?: ReadonlyMap<string, string>;
  /** Versions kept on disk per component, current included. Default 2. */
  readonly keepVersions?: number;
  /** What the agent put on the host (see host-inventory.ts). */
  readonly inventory: Inventory;
  /**
   * Everything the Machine spec names, resolved or not: only what it no longer names is removed, never a
   * component missing from the catalog or a file whose Secret cannot be read.
   */
  readonly named: { readonly components: ReadonlySet<string>; readonly files: ReadonlySet<string> };
  /**
   * What reboots and reinstalls are decided from besides the journal: the Machine's spec and status, the boot ID
   * and the reboot generation whose command this agent process ran. Without it none is planned.
   */
  readonly remediation?: Omit<RemediationInput, 'journal'>;
}

export interface ConvergencePlan {
  readonly steps: readonly Step[];
  /** Service actions the mutations will owe, journaled before each mutation. */
  readonly owedBy: ReadonlyMap<Step, { component: string; action: ServiceAction }>;
  /** Set when spec.restartGeneration asks for a restart (of restartComponent, or every service): record it once done. */
  readonly restartGeneration: number | undefined;
  /** Set when spec.reinstallGeneration asks for a reinstall that the plan carries out: record it once done. */
  readonly reinstallGeneration: number | undefined;
  /** What the pass's operation is about when it is a remediation: a completed reboot, a reinstall, a restart. */
  readonly remediation: RemediationType | undefined;
}

const NO_REMEDIATION: RemediationPlan = {
  reboot: { kind: 'none' },
  reinstallGeneration: undefined,
  remediation: undefined,
};

export function planConvergence(input: PlanInput): ConvergencePlan {
  const { desired, observed, journal } = input;
  const remediation = input.remediation ? planRemediation({ ...input.remediation, journal }) : NO_REMEDIATION;
  const { reboot } = remediation;
  if (reboot.kind === 'reboot') return alone(reboot);
  if (reboot.kind === 'wait') return alone({ kind: 'awaitReboot', generation: reboot.generation });
  const steps: Step[] = [];
  const owedBy = new Map<Step, { component: string; action: ServiceAction }>();
  const owed = new Map<string, ServiceAction>(Object.entries(journal.pending));
  const owe = (component: string, action: ServiceAction): void => {
    owed.set(component, owed.get(component) === 'restart' ? 'restart' : action);
  };
  const serviceNames = new Set(desired.components.filter((c) => c.service).map((c) => c.name));

  if (reboot.kind === 'completed')
    steps.push({ kind: 'rebootCompleted', generation: reboot.generation, bootID: reboot.bootID });
  const { reinstallGeneration } = remediation;
  if (reinstallGeneration !== undefined) {
    const components = desired.components.filter((c) =>
      inRemediationScope(c.name, desired.reinstallComponent),
    );
    steps.push({ kind: 'reinstall', generation: reinstallGeneration, components });
    // The reinstall journals these restarts before it replaces anything.
    for (const c of components) if (c.service) owe(c.name, 'restart');
  }

  const changed = desired.components.filter((component) => {
    const seen = observed.components.get(component.name);
    return seen?.current !== component.version && input.refused?.get(component.name) !== component.version;
  });
  const toActivate = changed.filter((component) => !isImage(component));
  const toImport = changed.filter(isImage);
  for (const component of toActivate) {
    if (!observed.components.get(component.name)?.installed.includes(component.version))
      steps.push({ kind: 'install', component });
  }
  for (const step of removals(input)) {
    steps.push(step);
    // Deleting a file is a change of it: it owes what its change asked for.
    const onChange = step.kind === 'removeFile' ? input.inventory.files[step.path]?.onChange : undefined;
    if (onChange && serviceNames.has(onChange.component)) {
      owedBy.set(step, onChange);
      owe(onChange.component, onChange.action);
    }
  }
  for (const file of desired.files) {
    const seen = observed.files.get(file.path);
    if (seen?.sha256 === file.sha256 && seen.mode === file.mode) continue;
    const step: Step = {
      kind: 'writeFile',
      file,
      drift: seen?.sha256 !== undefined && input.lastWritten.get(file.path) === file.sha256,
      previousSha256: seen?.sha256,
    };
    steps.push(step);
    if (file.onChange && serviceNames.has(file.onChange.component) && seen?.sha256 !== file.sha256) {
      owedBy.set(step, file.onChange);
      owe(file.onChange.component, file.onChange.action);
    }
  }
  for (const component of toActivate) {
    const previousVersion = observed.components.get(component.name)?.current;
    const step: Step = { kind: 'activate', component, previousVersion };
    steps.push(step);
    // A first install starts the service below; only a version change owes an action.
    if (component.onChange && previousVersion !== undefined) {
      owedBy.set(step, { component: component.name, action: component.onChange });
      owe(component.name, component.onChange);
    }
  }
  const restartAsked =
    desired.restartGeneration !== undefined && desired.restartGeneration > (journal.restartGeneration ?? 0);
  if (restartAsked)
    for (const name of serviceNames)
      if (inRemediationScope(name, desired.restartComponent)) owe(name, 'restart');
  for (const [component, action] of owed) {
    if (serviceNames.has(component)) steps.push({ kind: 'serviceAction', component, action });
  }
  for (const component of desired.components) {
    if (!component.service || owed.has(component.name)) continue;
    const seen = observed.components.get(component.name);
    const willHaveVersion = seen?.current !== undefined || toActivate.some((c) => c.name === component.name);
    if (seen?.running !== true && willHaveVersion) steps.push({ kind: 'start', component: component.name });
  }
  for (const component of toImport) {
    if (!observed.components.get(component.name)?.installed.includes(component.version))
      steps.push({ kind: 'install', component });
    steps.push({
      kind: 'activate',
      component,
      previousVersion: observed.components.get(component.name)?.current,
    });
  }
  for (const component of desired.components) {
    const seen = observed.components.get(component.name);
    const versionsAfter = new Set([...(seen?.installed ?? []), component.version]);
    if (versionsAfter.size > (input.keepVersions ?? 2))
      steps.push({ kind: 'collectGarbage', component: component.name });
  }
  return {
    steps,
    owedBy,
    restartGeneration: restartAsked ? desired.restartGeneration : undefined,
    reinstallGeneration,
    remediation: remediation.remediation,
  };
}

/** A plan of one step after which the host goes down. */
function alone(step: Step): ConvergencePlan {
  return {
    steps: [step],
    owedBy: new Map(),
    restartGeneration: undefined,
    reinstallGeneration: undefined,
    remediation: undefined,
  };
}

/** The steps that take away what the spec no longer names, services first. Pure. */
function removals({ desired, observed, inventory, named }: PlanInput): Step[] {
  const components: Step[] = [];
  const units = new Set(desired.components.flatMap((c) => (c.service?.unit ? [c.service.unit] : [])));
  const installPaths = new Set(desired.components.flatMap((c) => (c.install.path ? [c.install.path] : [])));
  const leftovers = new Set([...Object.keys(inventory.components), ...observed.components.keys()]);
  for (const name of [...leftovers].sort()) {
    if (named.components.has(name)) continue;
    const recorded = inventory.components[name];
    const seen = observed.components.get(name);
    if (seen?.current === undefined && seen?.running !== true) {
      if (recorded) components.push({ kind: 'forgetComponent', component: name });
      continue;
    }
    // Without a record (an agent before the inventory installed it) only what the agent names after it is known.
    const service = recorded ? (recorded.service ? { unit: recorded.unit } : undefined) : { unit: undefined };
    components.push({
      kind: 'removeComponent',
      component: name,
      service: service?.unit !== undefined && units.has(service.unit) ? undefined : service,
      installPath:
        recorded?.installPath === undefined || installPaths.has(recorded.installPath)
          ? undefined
          : recorded.installPath,
    });
  }
  return [...components, ...fileRemovals(inventory.files, observed.files, named.files)];
}

/**
 * Recorded files the spec does not name: deleted when they hold what the
 * agent wrote, else forgotten, and kept when someone changed them. Pure.
 */
export function fileRemovals(
  recorded: Inventory['files'],
  observed: ReadonlyMap<string, ObservedFile>,
  named: ReadonlySet<string>,
): Step[] {
  const files: Step[] = [];
  for (const [path, entry] of Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b))) {
    if (named.has(path)) continue;
    const sha256 = observed.get(path)?.sha256;
    if (sha256 !== undefined && entry.sha256.includes(sha256)) files.push({ kind: 'removeFile', path });
    else files.push({ kind: 'forgetFile', path, kept: sha256 !== undefined });
  }
  return files;
}

function isImage(component: DesiredComponent): boolean {
  return component.install.method === 'Image';
}

/** Steps that change no running part of the host: they need no operation of their own. */
const QUIET_STEPS: ReadonlySet<Step['kind']> = new Set([
  'collectGarbage',
  'forgetComponent',
  'forgetFile',
  'awaitReboot',
  'rebootCompleted',
]);

/** After this step the host goes down: the pass does and reports nothing more. */
export function endsPass(step: Step): boolean {
  return step.kind === 'reboot' || step.kind === 'awaitReboot';
}

/** True when the plan changes the host (GC and inventory bookkeeping alone do not count). */
export function isDisruptive(plan: ConvergencePlan): boolean {
  return plan.steps.some((step) => !QUIET_STEPS.has(step.kind));
}

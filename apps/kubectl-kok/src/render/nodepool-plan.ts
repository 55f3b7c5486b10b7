/**
 * `kubectl kok nodepool plan` as text: the revision, what each machine
 * undergoes, the waves, the steps with the budget in use, where it stops and
 * the estimate with its basis. Long lists are cut; -o json has everything.
 */
import type { MachineChange } from '@kok/api';
import type { SimulatedStep } from '@kok/rollout';
import type { MachinePlan, NodePoolPlanView } from '../nodepool-plan.ts';
import { formatDuration } from './age.ts';
import { renderFields, renderTable } from './table.ts';

/** Machines listed one per row before the rest are counted. */
export const MACHINES_SHOWN = 50;
/** Steps listed before the rest are counted. */
export const STEPS_SHOWN = 40;
/** Members named per wave before the rest are counted. */
const MEMBERS_NAMED = 5;

export function renderNodePoolPlan(view: NodePoolPlanView): string {
  const fields: [string, string][] = [
    ['NodePool', view.pool],
    ['Revision', revisionLine(view)],
    ['Machines', machinesLine(view)],
    ['Budget', `maxUnavailable ${view.maxUnavailable}`],
    ['Outcome', outcomeLine(view)],
    ['Estimate', estimateLine(view)],
    ['Basis', view.estimate.basis],
  ];
  let text = renderFields(fields);
  if (view.changing.length === 0) return text + '\nNothing to do: every machine runs this revision.\n';

  const shownMachines = view.changing.slice(0, MACHINES_SHOWN);
  text +=
    '\nMachines that change (in rollout order):\n' +
    renderTable(
      ['Machine', 'Wave', 'Action', 'Changes'],
      shownMachines.map((machine) => [
        machine.machine,
        String(machine.wave),
        actionOf(machine),
        machine.changes.length === 0 ? 'revision only' : machine.changes.map(describeChange).join(', '),
      ]),
    ) +
    more(view.changing.length - shownMachines.length, 'machines');

  text +=
    '\nWaves:\n' +
    renderTable(
      ['Wave', 'Machines', 'Starts', 'Done', 'Then', 'Members'],
      view.waves.map((wave) => [
        wave.label,
        String(wave.members.length),
        offset(wave.startsAtSeconds),
        offset(wave.finishesAtSeconds),
        [
          wave.bakeSeconds > 0 ? `bake ${formatDuration(wave.bakeSeconds * 1000)}` : '',
          wave.pauseAfter === true ? 'pause for a person' : '',
          typeof wave.pauseAfter === 'number' ? `hold ${formatDuration(wave.pauseAfter * 1000)}` : '',
        ]
          .filter(Boolean)
          .join(', ') || '-',
        nameList(wave.members),
      ]),
    );

  const shownSteps = view.steps.slice(0, STEPS_SHOWN);
  text +=
    '\nSteps:\n' +
    renderTable(
      ['At', 'Wave', 'Budget', 'What happens'],
      shownSteps.map((step) => [
        offset(step.atSeconds),
        String(step.wave),
        `${step.inUse}/${step.maxUnavailable}`,
        describeStep(step),
      ]),
    ) +
    more(view.steps.length - shownSteps.length, 'steps');
  return text;
}

function revisionLine(view: NodePoolPlanView): string {
  const last = view.lastGoodRevision === undefined ? '' : `, last good ${view.lastGoodRevision}`;
  return view.revision === view.liveRevision
    ? `${view.revision} (the live template's${last})`
    : `${view.revision} (live template ${view.liveRevision}${last})`;
}

function machinesLine(view: NodePoolPlanView): string {
  const byAction = new Map<string, number>();
  for (const machine of view.changing) {
    const action = actionOf(machine);
    byAction.set(action, (byAction.get(action) ?? 0) + 1);
  }
  const actions = [...byAction].map(([action, count]) => `${count} ${action}`).join(', ');
  return `${view.machines} in the pool, ${view.changing.length} change${actions ? ` (${actions})` : ''}`;
}

/** What the machine undergoes: a drain before it is told, else the heaviest action of its changes. */
function actionOf(machine: MachinePlan): string {
  return machine.drain ? 'Drain' : machine.action;
}

function outcomeLine(view: NodePoolPlanView): string {
  switch (view.outcome) {
    case 'Complete':
      return 'every machine runs the revision';
    case 'Stopped':
      return `stops at ${offset(view.estimate.seconds)}: ${view.stoppedBy?.message ?? ''}`;
    case 'Stalled':
      return `does not finish with the machines as they are: ${view.stoppedBy?.message ?? ''}`;
  }
}

function estimateLine(view: NodePoolPlanView): string {
  const duration = formatDuration(view.estimate.seconds * 1000);
  const at = new Date(Date.parse(view.from) + view.estimate.seconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
  switch (view.outcome) {
    case 'Complete':
      return `${duration} (done about ${at})`;
    case 'Stopped':
      return `${duration} until it stops (about ${at}); the rest is not estimated`;
    case 'Stalled':
      return `none: the rollout stalls after ${duration}`;
  }
}

function describeChange(change: MachineChange): string {
  const what =
    change.kind === 'component'
      ? `${change.name} ${change.from ?? '(none)'} → ${change.to ?? '(removed)'}`
      : `${change.name} ${change.fileChange ?? 'changed'}`;
  return `${what} (${change.action})`;
}

function describeStep(step: SimulatedStep): string {
  const parts = [
    step.uncordon.length > 0 ? `uncordon ${nameList(step.uncordon)}` : '',
    step.cordon.length > 0 ? `cordon and drain ${nameList(step.cordon)}` : '',
    step.assign.length > 0 ? `tell ${nameList(step.assign)}` : '',
    step.pause ? `${step.pause.reason}: ${step.pause.message}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

function nameList(names: readonly string[]): string {
  if (names.length === 0) return '-';
  const named = names.slice(0, MEMBERS_NAMED).join(', ');
  return names.length <= MEMBERS_NAMED ? named : `${named} and ${names.length - MEMBERS_NAMED} more`;
}

function offset(seconds: number | undefined): string {
  return seconds === undefined ? '-' : `+${formatDuration(seconds * 1000)}`;
}

function more(count: number, what: string): string {
  return count > 0 ? `  … and ${count} more ${what} (-o json lists them all)\n` : '';
}

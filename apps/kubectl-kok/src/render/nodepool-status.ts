/**
 * `kubectl kok nodepool status` as text: where the rollout stands, why it
 * waits, and a progress bar per wave.
 */
import type { NodePoolStatusView } from '../nodepool-status.ts';
import { renderConditions } from './conditions.ts';
import { progressBar } from './progress-bar.ts';
import { indent, renderFields, renderTable } from './table.ts';

/** Failed machines listed by name before the rest are summed up. */
export const FAILED_MACHINES_SHOWN = 10;

/** One line on what the pool is doing, and the command that moves it on when a person must act. */
export function poolState(view: NodePoolStatusView): { state: string; hint?: string } {
  const resume = `resume with: kubectl kok nodepool resume ${view.name}`;
  if (view.pause) {
    const state = `Paused (${view.pause.reason})${view.pause.message ? `: ${view.pause.message}` : ''}`;
    if (view.pause.reason === 'TooManyFailures')
      return {
        state,
        hint: `roll back with: kubectl kok nodepool rollback ${view.name}; or repair the failed machines`,
      };
    if (view.pause.reason === 'Paused' || view.pause.reason === 'AwaitingResume')
      return { state, hint: resume };
    return { state };
  }
  if (view.pausedBySpec) return { state: 'Paused (spec.paused is true)', hint: resume };
  const rolling = view.rollingOut;
  if (!rolling) return { state: 'Unknown: the node-operator has not reported on this pool yet' };
  if (rolling.reason === 'Complete') return { state: 'Complete: every machine runs the revision' };
  const what = rolling.status === 'True' ? 'Rolling out' : 'Stopped';
  return { state: `${what} (${rolling.reason})${rolling.message ? `: ${rolling.message}` : ''}` };
}

function waveNotes(wave: NodePoolStatusView['waves'][number]): string {
  return [wave.bakeSeconds > 0 ? `bake ${wave.bakeSeconds}s` : '', wave.pauseAfter ? 'pause after' : '']
    .filter(Boolean)
    .join(', ');
}

export function renderNodePoolStatus(view: NodePoolStatusView, now: Date): string {
  const { counts } = view;
  const { state, hint } = poolState(view);
  const revision =
    view.lastGoodRevision === undefined
      ? view.targetRevision
      : view.lastGoodRevision === view.targetRevision
        ? `${view.targetRevision} (last good)`
        : `${view.targetRevision}, last good ${view.lastGoodRevision}`;
  const fields: [string, string][] = [
    ['NodePool', view.name],
    ['Revision', revision],
    [
      'Machines',
      `${counts.machines} total, ${counts.updated} updated, ${counts.ready} ready, ` +
        `${counts.unavailable} unavailable (maxUnavailable ${view.maxUnavailable}), ` +
        `${counts.failed} failed (maxFailed ${view.maxFailed})`,
    ],
    ['State', state],
  ];
  if (hint) fields.push(['', hint]);
  if (view.operatorBehind)
    fields.push([
      'Note',
      `the node-operator has not acted on the latest spec yet (template revision ${view.templateRevision})`,
    ]);

  const waves = renderTable(
    ['Wave', 'Machines', 'Progress', 'Updated', 'Updating', 'Failed', 'Pending', 'Notes'],
    view.waves.map((wave) => [
      `${wave.index === view.currentWave ? '>' : ' '} ${wave.name}`,
      String(wave.machines),
      wave.machines === 0 ? '(no machines)' : progressBar(wave.updated, wave.machines),
      String(wave.updated),
      String(wave.updating),
      String(wave.failed),
      String(wave.pending),
      waveNotes(wave),
    ]),
  );

  let text = renderFields(fields) + '\n' + waves;
  if (view.failedMachines.length > 0) {
    const shown = view.failedMachines.slice(0, FAILED_MACHINES_SHOWN);
    const more = view.failedMachines.length - shown.length;
    text +=
      `\nFailed machines (${view.failedMachines.length}):\n` +
      shown.map((m) => `  ${m.name}: ${m.message}\n`).join('') +
      (more > 0 ? `  … and ${more} more: kubectl get machines\n` : '');
  }
  text += '\nConditions:\n' + indent(renderConditions(view.conditions, now));
  return text;
}

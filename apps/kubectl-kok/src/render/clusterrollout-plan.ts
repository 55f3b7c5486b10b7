/** `kubectl kok clusterrollout plan` as text. */
import type { ClusterRolloutPlanView, PlannedCluster, PlannedWave } from '../clusterrollout-plan.ts';
import { renderFields, renderTable } from './table.ts';

export function renderClusterRolloutPlan(view: ClusterRolloutPlanView): string {
  const selected = view.waves.reduce((sum, w) => sum + w.clusters.length, 0);
  const fields: [string, string][] = [
    [
      'ClusterRollout',
      `${view.namespace}/${view.rollout}${view.source === 'file' ? ' (as proposed in the file)' : ''}`,
    ],
    ['Version', view.version],
    ...(view.nodePools
      ? [
          ['Node pools', `${view.nodePools}, in each cluster's NodePools after its control plane`] as [
            string,
            string,
          ],
        ]
      : []),
    ['Selector', `${view.clusterSelector}: ${selected} Cluster${selected === 1 ? '' : 's'}`],
    [
      'Bake',
      `each cluster ${view.bakeSeconds}s Available at ${view.version}${view.nodePools ? ', its NodePools up to date' : ''}`,
    ],
    ['maxFailed', String(view.maxFailed)],
  ];
  if (view.heldElsewhere.length > 0)
    fields.push([
      'Not selected',
      view.heldElsewhere
        .map((h) => `${h.cluster} (held by ClusterRollout ${h.rollout || '<unknown>'}, unfinished)`)
        .join(', '),
    ]);
  fields.push(['Phase', view.phase], ['Status', view.message]);
  if (view.finished) fields.push(['Finished', view.finished]);

  // The NodePools column only when the rollout carries node-pool versions.
  const pools = (cells: string[], poolCell: string) =>
    view.nodePools ? [...cells.slice(0, 5), poolCell, ...cells.slice(5)] : cells;
  const rows = view.waves.flatMap((w) =>
    w.clusters.length === 0
      ? [pools([waveLabel(w), w.takes, '-', '', '', '', afterWave(w)], '')]
      : w.clusters.map((c, i) =>
          pools(
            [
              i === 0 ? waveLabel(w) : '',
              i === 0 ? w.takes : '',
              c.cluster,
              c.from === c.to ? c.to : `${c.from} → ${c.to}`,
              clusterState(c),
              c.startsNow ? 'starts now' : '',
              i === w.clusters.length - 1 ? afterWave(w) : '',
            ],
            c.nodePools ?? '',
          ),
        ),
  );
  const waves = `Waves, in order (a wave starts once the one before finished, baked and was resumed if it pauses):\n${renderTable(
    pools(['Wave', 'Takes', 'Cluster', 'Version', 'State', 'Now', 'Then'], 'NodePools'),
    rows,
  )}`;
  const start = view.startNow.length > 0 ? `Starts now: ${view.startNow.join(', ')}\n` : 'Starts now: none\n';
  return [renderFields(fields), waves + start].join('\n');
}

function waveLabel(w: PlannedWave): string {
  return `${w.index} ${w.name}`;
}

function clusterState(c: PlannedCluster): string {
  return c.paused && (c.phase === 'Pending' || c.phase === 'Upgrading')
    ? `${c.phase} (Cluster paused)`
    : c.phase;
}

function afterWave(w: PlannedWave): string {
  const then = [
    ...(w.bakeSeconds > 0 ? [`bake ${w.bakeSeconds}s`] : []),
    ...(w.pauseAfter ? ['pause until resumed'] : []),
  ];
  return then.join(', ');
}

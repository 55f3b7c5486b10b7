/** The ETA lines under `nodepool status --watch`: when the rollout should be done, per wave, and on what basis. */
import type { RolloutEta } from '../rollout-eta.ts';
import { formatDuration } from './age.ts';
import { renderFields } from './table.ts';

export function renderRolloutEta(eta: RolloutEta, now: Date): string {
  const at = (seconds: number) =>
    `${formatDuration(seconds * 1000)} (about ${new Date(now.getTime() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')})`;
  let estimate: string;
  if (eta.outcome === 'Complete')
    estimate = eta.seconds === 0 ? 'done' : `every machine at the revision in ${at(eta.seconds)}`;
  else if (eta.outcome === 'Stopped')
    estimate =
      eta.seconds === 0
        ? `none while it stays stopped: ${eta.stoppedBy?.message ?? ''}`
        : `stops in ${at(eta.seconds)}: ${eta.stoppedBy?.message ?? ''}`;
  else estimate = `none: it does not finish with the machines as they are: ${eta.stoppedBy?.message ?? ''}`;
  const waves = eta.waves
    .filter((wave) => wave.members.length > 0)
    .map((wave) => {
      const done = wave.finishesAtSeconds;
      return `${wave.label} ${done === undefined ? 'not estimated' : done === 0 ? 'done' : `in ${formatDuration(done * 1000)}`}`;
    })
    .join('; ');
  return (
    '\n' +
    renderFields([
      ['ETA', estimate],
      ['Waves done', waves],
      ['Basis', eta.basis],
    ])
  );
}

/**
 * Waves: the canary steps of a rollout, shared by NodePool (machines) and
 * ClusterRollout (clusters).
 */
import { cel } from './cel-rule.ts';
import { dnsLabel, labelSelector } from './common-schemas.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

export const MAX_WAVES = 16;

interface WaveShape {
  name: string;
  count?: number;
  percent?: number;
  selector?: object;
}

function strictlyIncreasing(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || value > (values[index - 1] as number));
}

export function wave(noun: 'machines' | 'clusters') {
  return s.object(
    `One step of the rollout: which ${noun} it takes, and whether to stop after it.`,
    {
      name: dnsLabel('Name of the wave, e.g. canary; shown in status and events.'),
      count: s.optional(
        s.integer(`Cumulative number of ${noun} updated once this wave is done.`, { minimum: 1 }),
      ),
      percent: s.optional(
        s.integer(
          `Cumulative share of the ${noun}, in percent, updated once this wave is done (rounded up).`,
          {
            minimum: 1,
            maximum: 100,
          },
        ),
      ),
      selector: s.optional(
        labelSelector(`The ${noun} matching this selector, besides those of earlier waves.`),
      ),
      pauseAfter: s.optional(
        s.boolean('Pause the rollout after this wave until a person sets paused to false. Default false.', {
          default: false,
        }),
      ),
      bakeSeconds: s.optional(
        s.integer(
          `Seconds the ${noun} of this wave must stay healthy before the next wave starts. Default 0.`,
          {
            minimum: 0,
            maximum: 604800,
            default: 0,
          },
        ),
      ),
    },
    {
      rules: [
        cel<WaveShape>({
          rule: '[has(self.count), has(self.percent), has(self.selector)].filter(x, x).size() == 1',
          message: 'a wave sets exactly one of count, percent or selector',
          check: (self) =>
            [self.count, self.percent, self.selector].filter((x) => x !== undefined).length === 1,
        }),
      ],
    },
  );
}
export type Wave = Static<ReturnType<typeof wave>>;

export function waves(noun: 'machines' | 'clusters') {
  return s.mapList(
    `Canary steps, in order. ${noun === 'machines' ? 'Machines' : 'Clusters'} not taken by any wave are updated in a last implicit wave. Default: one wave with everything.`,
    wave(noun),
    ['name'],
    {
      maxItems: MAX_WAVES,
      rules: [
        cel<WaveShape[]>({
          rule: 'self.all(w, self.exists_one(v, v.name == w.name))',
          message: 'wave names must be unique',
          check: (self) => new Set(self.map((w) => w.name)).size === self.length,
        }),
        cel<WaveShape[]>({
          rule:
            'self.filter(w, has(w.percent)).map(w, w.percent).isSorted() && self.filter(w, has(w.percent)).all(w, self.exists_one(v, has(v.percent) && v.percent == w.percent))' +
            ' && self.filter(w, has(w.count)).map(w, w.count).isSorted() && self.filter(w, has(w.count)).all(w, self.exists_one(v, has(v.count) && v.count == w.count))',
          // Counts and percents may mix ([1], [30%], rest): each kind grows on its own, and a
          // wave whose target the earlier ones already reached simply takes nothing.
          message: 'wave count and percent are cumulative: each wave must be larger than the one before',
          check: (self) =>
            strictlyIncreasing(self.flatMap((w) => (w.percent === undefined ? [] : [w.percent]))) &&
            strictlyIncreasing(self.flatMap((w) => (w.count === undefined ? [] : [w.count]))),
        }),
      ],
    },
  );
}

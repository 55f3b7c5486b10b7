/**
 * ClusterRollout (clusters.kok.dev/v1alpha1, namespaced): move many Clusters
 * of one namespace to a version, in canary waves, stopping on failures.
 */
import {
  components,
  conditions,
  kubernetesVersion,
  labelSelector,
  observedGeneration,
} from './common-schemas.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, CLUSTERS_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';
import { MAX_WAVES, waves } from './waves.ts';

export const ClusterRolloutSpec = s.object('Which clusters move to which version, and how carefully.', {
  clusterSelector: labelSelector('The Clusters of this namespace to upgrade, by their labels.'),
  version: kubernetesVersion('The Kubernetes version every selected cluster moves to, e.g. v1.36.3.'),
  nodePools: s.optional(
    s.object(
      "Versions of the selected clusters' NodePools, moved after each control plane: written on each Cluster as spec.nodePools together with spec.version when the rollout starts it (a cluster at the version whose spec.nodePools differs is started again). A cluster then counts as upgraded, for bakeSeconds and success, only once its control plane is Available at the version and its NodePools are up to date with these versions (its condition NodePoolsUpToDate True), and its bake counts from the later of the two. Unset: control planes only, and the Clusters' spec.nodePools is left alone.",
      {
        components: components(
          'Components by name (e.g. kubelet) and the version every NodePool whose template has them runs.',
        ),
      },
    ),
  ),
  waves: s.optional(waves('clusters')),
  bakeSeconds: s.optional(
    s.integer('Seconds an upgraded cluster must stay Available before it counts as succeeded. Default 300.', {
      minimum: 0,
      maximum: 604800,
      default: 300,
    }),
  ),
  maxFailed: s.optional(
    s.integer(
      'Clusters that may fail before the rollout stops (phase Failed): it stops once more than this many failed. Default 0: the first failure stops it.',
      {
        minimum: 0,
        default: 0,
      },
    ),
  ),
  paused: s.optional(s.boolean('Start no further cluster upgrades. Default false.', { default: false })),
});
export type ClusterRolloutSpec = Static<typeof ClusterRolloutSpec>;

/** Where one wave stands. */
export const CLUSTER_ROLLOUT_WAVE_STATES = [
  'Pending',
  'Progressing',
  'Baking',
  'Succeeded',
  'Failed',
] as const;

/**
 * Name of the wave that takes the clusters no wave of spec.waves covers (not a DNS label, so never a
 * wave's name). The planner (@kok/rollout) names it so too; the operator checks that they agree.
 */
export const REMAINING_WAVE_NAME = '(remaining)';

/**
 * On a ClusterRollout: `<version>/<wave index>` of the pauseAfter wave after which the operator set
 * spec.paused. Written in the same patch as the pause, so "annotation present and spec.paused false"
 * can only mean a person resumed (@kok/rollout pausedAfterWaveValue and clusterRolloutInput).
 */
export const PAUSED_AFTER_WAVE_ANNOTATION = 'clusters.kok.dev/paused-after-wave';

const clusterCount = (description: string) => s.optional(s.integer(description, { minimum: 0 }));

// Counts only: a status that lists every cluster would grow with the fleet. Each cluster's own part
// (its wave, whether it failed) is recorded on the Cluster itself.
export const ClusterRolloutStatus = s.object('Progress of the rollout, as counts per wave.', {
  observedGeneration: s.optional(observedGeneration()),
  phase: s.optional(
    s.stringEnum('A one-word summary for people.', [
      'Pending',
      'Progressing',
      'Paused',
      'Succeeded',
      'Failed',
    ]),
  ),
  currentWave: s.optional(s.integer('Index of the wave in progress (0 is the first).', { minimum: 0 })),
  clusters: clusterCount('Clusters selected.'),
  updatedClusters: clusterCount('Clusters that reached the version and baked.'),
  upgradingClusters: clusterCount('Clusters told the version that have not reached it and baked yet.'),
  failedClusters: clusterCount('Clusters whose upgrade failed at the version.'),
  message: s.optional(
    s.string('What the rollout waits for, or why it stopped, naming the failed clusters (the first few).', {
      maxLength: 4096,
    }),
  ),
  waves: s.optional(
    s.mapList(
      'Every wave, in order, the implicit last one included.',
      s.object('One wave.', {
        index: s.integer('Position of the wave (0 is the first).', { minimum: 0 }),
        name: s.string(`Name of the wave; ${REMAINING_WAVE_NAME} for the implicit last one.`, {
          maxLength: 63,
        }),
        state: s.stringEnum('Where the wave stands.', CLUSTER_ROLLOUT_WAVE_STATES),
        clusters: s.integer('Clusters of the wave.', { minimum: 0 }),
        updated: s.integer('Clusters of the wave that reached the version and baked.', { minimum: 0 }),
        upgrading: s.integer('Clusters of the wave on their way to the version.', { minimum: 0 }),
        failed: s.integer('Clusters of the wave that failed.', { minimum: 0 }),
        startedAt: s.optional(s.timestamp('When the rollout first told one of its clusters the version.')),
        finishedAt: s.optional(s.timestamp('When its last cluster succeeded or failed.')),
      }),
      ['index'],
      { maxItems: MAX_WAVES + 1 },
    ),
  ),
  conditions: s.optional(conditions('Progressing, Paused, Complete, Degraded.')),
});
export type ClusterRolloutStatus = Static<typeof ClusterRolloutStatus>;

export const ClusterRolloutSchema = resourceSchema(
  'ClusterRollout upgrades many Clusters to one version in canary waves, pausing when clusters fail.',
  ClusterRolloutSpec,
  ClusterRolloutStatus,
);
export type ClusterRollout = Static<typeof ClusterRolloutSchema>;

export const ClusterRolloutResource: ResourceDefinition<typeof ClusterRolloutSchema> = {
  group: CLUSTERS_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'ClusterRollout',
  plural: 'clusterrollouts',
  singular: 'clusterrollout',
  shortNames: ['kcr'],
  scope: 'Namespaced',
  schema: ClusterRolloutSchema,
  printerColumns: [
    { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Target version.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Summary of the rollout.' },
    { name: 'Wave', type: 'integer', jsonPath: '.status.currentWave', description: 'Wave in progress.' },
    { name: 'Updated', type: 'integer', jsonPath: '.status.updatedClusters', description: 'Clusters done.' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.failedClusters', description: 'Clusters failed.' },
    AGE_COLUMN,
  ],
};

/** What is read of a ClusterRollout: any object shaped like one as the apiserver serves it. */
export interface ClusterRolloutView {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
  };
  spec: ClusterRolloutSpec;
  status?: Pick<ClusterRolloutStatus, 'phase'>;
}

/**
 * ClusterRollout (clusters.kok.dev/v1alpha1, namespaced): move many Clusters
 * of one namespace to a version, in canary waves, stopping on failures.
 */
import { conditions, kubernetesVersion, labelSelector, observedGeneration } from './common-schemas.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, CLUSTERS_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';
import { waves } from './waves.ts';

export const ClusterRolloutSpec = s.object('Which clusters move to which version, and how carefully.', {
  clusterSelector: labelSelector('The Clusters of this namespace to upgrade, by their labels.'),
  version: kubernetesVersion('The Kubernetes version every selected cluster moves to, e.g. v1.36.3.'),
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
      'Clusters that may fail before the rollout pauses itself. Default 0: the first failure pauses.',
      {
        minimum: 0,
        default: 0,
      },
    ),
  ),
  paused: s.optional(s.boolean('Start no further cluster upgrades. Default false.', { default: false })),
});
export type ClusterRolloutSpec = Static<typeof ClusterRolloutSpec>;

export const CLUSTER_ROLLOUT_STATES = [
  'Pending',
  'Upgrading',
  'Baking',
  'Succeeded',
  'Failed',
  'Skipped',
] as const;

export const ClusterRolloutStatus = s.object('Progress of the rollout.', {
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
  clusters: s.optional(s.integer('Clusters selected.', { minimum: 0 })),
  updatedClusters: s.optional(s.integer('Clusters that reached the version and baked.', { minimum: 0 })),
  failedClusters: s.optional(s.integer('Clusters whose upgrade failed.', { minimum: 0 })),
  clusterStatuses: s.optional(
    s.mapList(
      'Where each selected cluster stands.',
      s.object('One cluster.', {
        name: s.string('Name of the Cluster.', { maxLength: 253 }),
        wave: s.optional(s.string('The wave the cluster belongs to.', { maxLength: 63 })),
        state: s.stringEnum('Where its upgrade stands.', CLUSTER_ROLLOUT_STATES),
        fromVersion: s.optional(s.string('The version it ran before.', { maxLength: 64 })),
        message: s.optional(s.string('Details, e.g. why it failed.', { maxLength: 4096 })),
        startedAt: s.optional(s.timestamp('When its upgrade started.')),
        finishedAt: s.optional(s.timestamp('When its upgrade finished.')),
      }),
      ['name'],
      { maxItems: 2048 },
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

/**
 * NodePool (nodes.kok.dev/v1alpha1, cluster-scoped): the software a set of
 * Machines must run, and how a change rolls out to them.
 */
import { cel } from './cel-rule.ts';
import {
  componentName,
  components,
  CONDITION_TYPE_PATTERN,
  conditions,
  files,
  hostPath,
  labelKey,
  labels,
  labelSelector,
  matchesRule,
  observedGeneration,
  Taint,
} from './common-schemas.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, NODES_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';
import { waves } from './waves.ts';

export const PERCENT_PATTERN = String.raw`^([1-9][0-9]?|100)%$`;
const percent = new RegExp(PERCENT_PATTERN);

export const maxUnavailableRule = cel<number | string>({
  rule: `type(self) == int ? self >= 1 : self.matches(r'${PERCENT_PATTERN}')`,
  message: 'maxUnavailable must be an integer of at least 1 or a percentage from "1%" to "100%"',
  check: (self) => (typeof self === 'number' ? Number.isInteger(self) && self >= 1 : percent.test(self)),
});

export const NodePoolTemplate = s.object('The software and settings every machine of the pool must have.', {
  components: s.optional(components('Software every machine runs, each at one version.')),
  files: s.optional(files('Files every machine has.')),
  labels: s.optional(labels('Labels kept on every Node of the pool.', { maxProperties: 64 })),
  taints: s.optional(s.list('Taints kept on every Node of the pool.', Taint, { maxItems: 32 })),
});
export type NodePoolTemplate = Static<typeof NodePoolTemplate>;

export const DISRUPTION_ACTIONS = ['None', 'Reload', 'Restart', 'Drain'] as const;

function disruptionAction(description: string) {
  return s.stringEnum(description, DISRUPTION_ACTIONS);
}

const needsComponentRule = cel<{ action: string; component?: string }>({
  rule: "!(self.action in ['Reload', 'Restart']) || has(self.component)",
  message: 'a Reload or Restart of a file must name the component whose service to reload or restart',
  fieldPath: '.component',
  check: (self) => !['Reload', 'Restart'].includes(self.action) || self.component !== undefined,
});

export const DisruptionPolicy = s.object(
  'What a change costs the node: None (just write it), Reload or Restart a service, or Drain the node first.',
  {
    defaultAction: s.optional(
      s.stringEnum('Action for changes not listed below. Default Drain.', DISRUPTION_ACTIONS, {
        default: 'Drain',
      }),
    ),
    components: s.optional(
      s.mapList(
        'Action when a component version changes.',
        s.object('The action for one component.', {
          name: componentName('Component name.'),
          action: disruptionAction('What to do when its version changes.'),
        }),
        ['name'],
        { maxItems: 32 },
      ),
    ),
    files: s.optional(
      s.mapList(
        'Action when a file changes.',
        s.object(
          'The action for one file.',
          {
            path: hostPath('Absolute path of the file.', { file: true }),
            action: disruptionAction('What to do when the file changes.'),
            component: s.optional(componentName('The component whose service Reload or Restart acts on.')),
          },
          { rules: [needsComponentRule] },
        ),
        ['path'],
        { maxItems: 128 },
      ),
    ),
  },
);

const readyIsImplicitRule = cel<{ type: string }>({
  rule: "self.type != 'Ready'",
  message: 'Ready True is always required; list other Node conditions',
  fieldPath: '.type',
  check: (self) => self.type !== 'Ready',
});

export const HealthGate = s.object(
  'A Node condition and the status it must have.',
  {
    type: s.string('Node condition type, e.g. KernelDeadlock.', {
      maxLength: 316,
      minLength: 1,
      rules: [
        matchesRule(
          CONDITION_TYPE_PATTERN,
          "condition type must be a name like KernelDeadlock (letters, digits, '-', '_' and '.'), optionally after a DNS-subdomain prefix and '/'",
        ),
      ],
    }),
    status: s.stringEnum('The status the condition must have.', ['True', 'False']),
  },
  { rules: [readyIsImplicitRule] },
);
export type HealthGate = Static<typeof HealthGate>;

export const NodePoolRollout = s.object(
  'How a new revision reaches the machines.',
  {
    strategy: s.optional(
      s.object(
        'The rollout strategy.',
        {
          type: s.optional(
            s.stringEnum(
              'RollingUpdate (the only strategy) updates machines in waves under maxUnavailable.',
              ['RollingUpdate'],
              { default: 'RollingUpdate' },
            ),
          ),
          rollingUpdate: s.optional(
            s.object(
              'Rolling update parameters.',
              {
                maxUnavailable: s.optional(
                  s.intOrString(
                    'Most machines of the pool unavailable at once, whatever the cause (rollout, remediation, a dead host): a number, or a percentage of the pool rounded down but at least 1. Default 1.',
                    { maxLength: 4, default: 1, rules: [maxUnavailableRule] },
                  ),
                ),
              },
              { default: {} },
            ),
          ),
        },
        { default: {} },
      ),
    ),
    waves: s.optional(waves('machines')),
    maxFailed: s.optional(
      s.integer(
        'Machines that may fail at the new revision before the pool pauses itself (condition Paused, reason TooManyFailures). Default 0: the first failure pauses.',
        { minimum: 0, default: 0 },
      ),
    ),
    autoRollback: s.optional(
      s.boolean(
        'When the pool pauses for failures, set failed machines back to the last revision that was healthy on them. Default false.',
        { default: false },
      ),
    ),
    progressDeadlineSeconds: s.optional(
      s.integer(
        "Seconds a machine has, from when the node-operator tells it the pool's new revision, to run it healthy (Node Ready, agent ready, no failure reported). One that does not counts as failed at that revision against maxFailed (the pool pauses, or rolls back with autoRollback), and the pool's conditions name it with ProgressDeadlineExceeded and what it was stuck on. A machine under remediation is left to it. At most 604800 (a week). Default 600.",
        { minimum: 1, maximum: 604800, default: 600 },
      ),
    ),
    healthGates: s.optional(
      s.mapList(
        "Node conditions a machine must show, besides Ready True, to count as healthy, e.g. {type: KernelDeadlock, status: \"False\"} from node-problem-detector; a condition the Node does not have is not met. While a gate is unmet the machine counts as unavailable (it takes a place in maxUnavailable) and, at the new revision, not as done: it keeps its rollout cordon, and once progressDeadlineSeconds have passed since it was told the revision it counts as failed there, the pool's conditions naming the gate and the Node condition's reason and message.",
        HealthGate,
        ['type'],
        { maxItems: 16 },
      ),
    ),
    order: s.optional(
      s.object('The order machines are picked in within a wave.', {
        labelKeys: s.list(
          'Machines are grouped by the values of these Node labels (e.g. topology.kubernetes.io/zone, then a rack label), one group finished before the next; then by name.',
          labelKey('A label key.'),
          { maxItems: 4 },
        ),
      }),
    ),
  },
  { default: {} },
);

export const NodePoolDrain = s.object(
  'How machines are drained before a disruptive change.',
  {
    timeoutSeconds: s.optional(
      s.integer(
        "Seconds a rollout's drain of a machine may take, counted from the rollout's cordon. After that the machine counts as failed at the new revision against rollout.maxFailed (the pool pauses, or rolls back with autoRollback), its Drained condition says DrainTimeout and a Warning Event names the pods still blocking. The drain goes on (kok never forces an eviction) while the rollout or the failure pause lasts, and once the pods have left the machine is no longer failed and gets the revision; a rollback or spec.paused instead lifts its cordon, as it was never changed. 0: no timeout. At most 604800 (a week). Default 600.",
        { minimum: 0, maximum: 604800, default: 600 },
      ),
    ),
    gracePeriodSeconds: s.optional(
      s.integer("Grace period given to evicted pods; -1 uses each pod's own. Default -1.", {
        minimum: -1,
        default: -1,
      }),
    ),
    podSelector: s.optional(labelSelector('Only evict pods matching this selector. Default: all pods.')),
    deleteEmptyDirData: s.optional(
      s.boolean('Evict pods with emptyDir volumes (their data is lost). Default false.', { default: false }),
    ),
    ignoreDaemonSets: s.optional(
      s.boolean('Leave DaemonSet pods in place. Default true.', { default: true }),
    ),
  },
  { default: {} },
);

export const NodePoolSpec = s.object('The desired software of the pool and how to roll it out.', {
  selector: s.optional(
    labelSelector(
      'The Machines of this pool, by their labels. Default: the Machines whose spec.pool is this name.',
    ),
  ),
  template: NodePoolTemplate,
  rollout: s.optional(NodePoolRollout),
  paused: s.optional(
    s.boolean('Stop starting new updates; updates in flight finish. Default false.', { default: false }),
  ),
  drain: s.optional(NodePoolDrain),
  disruptionPolicy: s.optional(DisruptionPolicy),
});
export type NodePoolSpec = Static<typeof NodePoolSpec>;

function count(description: string) {
  return s.optional(s.integer(description, { minimum: 0 }));
}

export const NodePoolStatus = s.object('Rollout progress of the pool, as counts.', {
  observedGeneration: s.optional(observedGeneration()),
  currentRevision: s.optional(
    s.string('The revision every machine ran when the last rollout completed: the last good one.', {
      maxLength: 63,
    }),
  ),
  updateRevision: s.optional(s.string('The revision of the current template.', { maxLength: 63 })),
  machines: count('Machines in the pool.'),
  updatedMachines: count('Machines running updateRevision.'),
  readyMachines: count('Machines whose Node is Ready and that are healthy.'),
  unavailableMachines: count('Machines that count against maxUnavailable.'),
  failedMachines: count('Machines that failed at updateRevision.'),
  currentWave: count('Index of the wave in progress (0 is the first).'),
  conditions: s.optional(
    conditions(
      'Available, RollingOut, Paused, Degraded, RolledBack, MachinesOverlap. While the template names a Component that does not exist, a version its Component does not list, or a Component that is not Accepted, Paused and Degraded are True with reason ComponentNotFound, VersionNotFound or ComponentNotAccepted and no machine is told the revision; the rollout goes on by itself once the catalog or the template is fixed.',
    ),
  ),
  rollout: s.optional(
    s.object(
      'What the node-operator must remember about the rollout of updateRevision, so a restart carries on where it was.',
      {
        revision: s.string('The revision this record is about; a new updateRevision starts a fresh one.', {
          maxLength: 63,
        }),
        resumedAfterWave: count(
          'The highest wave a person resumed the rollout past (by setting paused to false after a pauseAfter hold).',
        ),
        rolledBack: s.optional(
          s.boolean('The revision failed and machines were sent back to currentRevision. Default false.'),
        ),
      },
    ),
  ),
});
export type NodePoolStatus = Static<typeof NodePoolStatus>;

export const NodePoolSchema = resourceSchema(
  'NodePool is the desired node software of a set of Machines and the canary rollout that gets it there.',
  NodePoolSpec,
  NodePoolStatus,
);
export type NodePool = Static<typeof NodePoolSchema>;

export const NodePoolResource: ResourceDefinition<typeof NodePoolSchema> = {
  group: NODES_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'NodePool',
  plural: 'nodepools',
  singular: 'nodepool',
  shortNames: ['knp'],
  scope: 'Cluster',
  schema: NodePoolSchema,
  printerColumns: [
    { name: 'Machines', type: 'integer', jsonPath: '.status.machines', description: 'Machines in the pool.' },
    {
      name: 'Updated',
      type: 'integer',
      jsonPath: '.status.updatedMachines',
      description: 'Machines at the latest revision.',
    },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyMachines', description: 'Ready machines.' },
    {
      name: 'Unavailable',
      type: 'integer',
      jsonPath: '.status.unavailableMachines',
      description: 'Machines counting against maxUnavailable.',
    },
    { name: 'Wave', type: 'integer', jsonPath: '.status.currentWave', description: 'Wave in progress.' },
    {
      name: 'Paused',
      type: 'boolean',
      jsonPath: '.spec.paused',
      description: 'Whether the rollout is paused.',
    },
    AGE_COLUMN,
  ],
};

/**
 * Machine (nodes.kok.dev/v1alpha1, cluster-scoped): one host, named after its
 * Node. spec is what the host must run; status is what the agent found there.
 */
import { cel } from './cel-rule.ts';
import {
  componentName,
  componentVersion,
  components,
  conditions,
  dnsLabel,
  files,
  ipOrDnsName,
  labels,
  LastOperation,
  observedGeneration,
  Taint,
} from './common-schemas.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, conditionColumn, NODES_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

function onlyIncreases(field: string) {
  return cel<number>({
    rule: 'self >= oldSelf',
    message: `${field} may only increase: bump it to ask for another restart`,
    check: (self, oldSelf) => self >= oldSelf,
  });
}

export const MachineSpec = s.object(
  'What the host must run. The node-operator writes components, files and revision from the NodePool; people may set the rest.',
  {
    address: s.optional(
      ipOrDnsName('IP address or DNS name the host is reached at. Immutable once set.', 'address'),
    ),
    pool: s.optional(
      dnsLabel('The NodePool this machine belongs to; mirrored to the Node label nodes.kok.dev/pool.'),
    ),
    revision: s.optional(
      s.string(
        'The NodePool template revision this machine must run (a short hex hash); written by the node-operator.',
        {
          maxLength: 63,
        },
      ),
    ),
    components: s.optional(components('Software the host must run, each at one version.')),
    files: s.optional(files('Files the host must have, written atomically by the node agent.')),
    labels: s.optional(labels('Labels the node-operator keeps on the Node.', { maxProperties: 64 })),
    taints: s.optional(s.list('Taints the node-operator keeps on the Node.', Taint, { maxItems: 32 })),
    unschedulable: s.optional(s.boolean('Keep the Node cordoned. Default false.', { default: false })),
    restartGeneration: s.optional(
      s.integer(
        'Increase to restart the component services on the host once (all, or restartComponent). Never decreases.',
        {
          minimum: 0,
          format: 'int64',
          rules: [onlyIncreases('restartGeneration')],
        },
      ),
    ),
    restartComponent: s.optional(
      componentName(
        'The one component the next increase of restartGeneration restarts; unset restarts every component service. The node-operator sets it with each RestartComponent remediation.',
      ),
    ),
    rebootGeneration: s.optional(
      s.integer(
        'Increase to reboot the host once: the agent stops its services and runs its --reboot-command. It does not drain first: cordon and drain a host whose pods must move (a RemediationPolicy Reboot does). Never decreases.',
        {
          minimum: 0,
          format: 'int64',
          rules: [onlyIncreases('rebootGeneration')],
        },
      ),
    ),
    reinstallGeneration: s.optional(
      s.integer(
        'Increase to make the node agent download and unpack the current version of the components again (all, or reinstallComponent), then restart them, once. Never decreases.',
        {
          minimum: 0,
          format: 'int64',
          rules: [onlyIncreases('reinstallGeneration')],
        },
      ),
    ),
    reinstallComponent: s.optional(
      componentName(
        'The one component the next increase of reinstallGeneration reinstalls; unset reinstalls every component. The node-operator sets it with each Reinstall remediation.',
      ),
    ),
  },
  {
    rules: [
      cel<{ address?: string }>({
        rule: '!has(oldSelf.address) || (has(self.address) && self.address == oldSelf.address)',
        message: 'address is immutable once set: create a new Machine for a new host',
        fieldPath: '.address',
        check: (self, oldSelf) => oldSelf.address === undefined || self.address === oldSelf.address,
      }),
    ],
  },
);
export type MachineSpec = Static<typeof MachineSpec>;

export const MACHINE_PHASES = [
  'Pending',
  'Ready',
  'Updating',
  'Draining',
  'Remediating',
  'Failed',
  'Unknown',
] as const;
export const COMPONENT_STATES = ['Pending', 'Installing', 'Running', 'Stopped', 'Failed'] as const;

export const MachineStatus = s.object('What the node agent and the node-operator observed on the host.', {
  observedGeneration: s.optional(observedGeneration()),
  phase: s.optional(
    s.stringEnum('A one-word summary for people; controllers read conditions.', MACHINE_PHASES),
  ),
  nodeRef: s.optional(
    s.object('The Node backed by this machine.', {
      name: s.string('Node name.', { maxLength: 253 }),
      uid: s.optional(s.string('Node uid.', { maxLength: 64 })),
    }),
  ),
  revision: s.optional(
    s.object('Pool revisions on this host.', {
      current: s.optional(s.string('The revision the host fully runs now.', { maxLength: 63 })),
      desired: s.optional(s.string('The revision the agent is converging to.', { maxLength: 63 })),
    }),
  ),
  components: s.optional(
    s.mapList(
      'Software the agent found on the host.',
      s.object('One component as observed.', {
        name: s.string('Component name.', { maxLength: 63 }),
        version: s.optional(s.string('Version the agent observed running.', { maxLength: 64 })),
        state: s.stringEnum('Where the component stands.', COMPONENT_STATES),
        message: s.optional(s.string('Details, e.g. why it failed.', { maxLength: 4096 })),
        since: s.optional(s.timestamp('When the component entered this state (or version).')),
      }),
      ['name'],
      { maxItems: 32 },
    ),
  ),
  files: s.optional(
    s.mapList(
      'Files the agent found on the host.',
      s.object('One file as observed.', {
        path: s.string('Absolute path.', { maxLength: 1024 }),
        sha256: s.optional(
          s.string('Hex SHA-256 of the content on disk; not set for a file from a Secret (see hmacSha256).', {
            maxLength: 64,
          }),
        ),
        hmacSha256: s.optional(
          s.string(
            'For a file from a Secret, instead of sha256: hex HMAC-SHA256 of the content on disk, keyed with a random key that never leaves the host. It changes when the content does, but cannot be used to guess the secret.',
            { maxLength: 64 },
          ),
        ),
      }),
      ['path'],
      { maxItems: 128 },
    ),
  ),
  agent: s.optional(
    s.object('The node agent on this host.', {
      version: s.optional(componentVersion('Version of the agent.')),
      lastHeartbeatTime: s.optional(s.timestamp('When the agent last reported.')),
    }),
  ),
  observedRestartGeneration: s.optional(
    s.integer('The spec.restartGeneration whose restart of every component the agent finished.', {
      minimum: 0,
      format: 'int64',
    }),
  ),
  observedReinstallGeneration: s.optional(
    s.integer('The spec.reinstallGeneration whose reinstall of every component the agent finished.', {
      minimum: 0,
      format: 'int64',
    }),
  ),
  observedRebootGeneration: s.optional(
    s.integer('The spec.rebootGeneration whose reboot the agent finished (the host came back up).', {
      minimum: 0,
      format: 'int64',
    }),
  ),
  bootID: s.optional(
    s.string('Boot ID of the host as the agent last saw it; it changes with every reboot.', {
      maxLength: 64,
    }),
  ),
  conditions: s.optional(
    conditions(
      'AgentReady, UpToDate, Updating, NodeHealthy, Drained, Remediating, RolloutFailed (the rollout counts the machine failed, e.g. reason ProgressDeadlineExceeded).',
    ),
  ),
  lastOperation: s.optional(LastOperation),
  waitingFor: s.optional(
    s.object(
      "What holds this machine from its pool's target revision, written by the node-operator; absent when nothing holds it (it runs the target, or is being drained or updated).",
      {
        reason: s.string(
          'One CamelCase word: Paused, AwaitingResume, PauseAfter, Baking, WaitingForWave, BudgetFull, VersionSkew, CatalogProblem, FailureBudgetExceeded, RolledBack, InvalidSpec, DrainBlocked, UnderRemediation, CordonedOutsideRollout, MachinePaused, Failed, AgentNotReporting or HealthGate.',
          { maxLength: 64 },
        ),
        message: s.string('One or two sentences: what holds it (names, times) and what a person can do.', {
          maxLength: 4096,
        }),
        since: s.optional(s.timestamp('When it began waiting for this reason.')),
      },
    ),
  ),
});
export type MachineStatus = Static<typeof MachineStatus>;

export const MachineSchema = resourceSchema(
  'Machine is one host of a cluster: the software and files it must run, and what is really there.',
  MachineSpec,
  MachineStatus,
);
export type Machine = Static<typeof MachineSchema>;

export const MachineResource: ResourceDefinition<typeof MachineSchema> = {
  group: NODES_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'Machine',
  plural: 'machines',
  singular: 'machine',
  shortNames: ['kma'],
  scope: 'Cluster',
  schema: MachineSchema,
  printerColumns: [
    { name: 'Pool', type: 'string', jsonPath: '.spec.pool', description: 'The NodePool of the machine.' },
    {
      name: 'Desired',
      type: 'string',
      jsonPath: '.spec.revision',
      description: 'Revision the machine must run.',
    },
    {
      name: 'Current',
      type: 'string',
      jsonPath: '.status.revision.current',
      description: 'Revision the machine runs.',
    },
    {
      name: 'Phase',
      type: 'string',
      jsonPath: '.status.phase',
      description: 'Summary of the machine state.',
    },
    conditionColumn('Node Ready', 'NodeHealthy', 'Whether the Node is Ready and free of problems.'),
    AGE_COLUMN,
  ],
};

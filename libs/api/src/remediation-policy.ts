/**
 * RemediationPolicy (nodes.kok.dev/v1alpha1, cluster-scoped): when a machine
 * counts as unhealthy and the escalating actions that fix it (the shape of
 * CAPI MachineHealthCheck and medik8s NodeHealthCheck).
 */
import { cel } from './cel-rule.ts';
import {
  componentName,
  CONDITION_TYPE_PATTERN,
  conditions,
  duration,
  labelSelector,
  matchesRule,
  observedGeneration,
} from './common-schemas.ts';
import { PERCENT_PATTERN } from './node-pool.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, NODES_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

const percent = new RegExp(PERCENT_PATTERN);

export const REMEDIATION_ACTIONS = ['RestartComponent', 'Reinstall', 'Cordon', 'Drain', 'Reboot'] as const;

const componentActions = ['RestartComponent', 'Reinstall'];

export const RemediationAction = s.object(
  'One remediation step.',
  {
    type: s.stringEnum(
      'RestartComponent or Reinstall act on one component; Cordon, Drain and Reboot on the whole machine. Reboot cordons and drains first (PodDisruptionBudgets apply) and reboots once the Node is empty; a drain that outlasts the timeout ends the step without a reboot.',
      REMEDIATION_ACTIONS,
    ),
    component: s.optional(componentName('The component for RestartComponent and Reinstall.')),
    timeout: s.optional(
      duration('How long to wait for the machine to become healthy before the next action. Default 10m.', {
        default: '10m',
      }),
    ),
  },
  {
    rules: [
      cel<{ type: string; component?: string }>({
        rule: "(self.type in ['RestartComponent', 'Reinstall']) == has(self.component)",
        message: 'RestartComponent and Reinstall name a component; the other actions must not',
        check: (self) => componentActions.includes(self.type) === (self.component !== undefined),
      }),
    ],
  },
);

export const RemediationPolicySpec = s.object(
  'Which machines are watched, when they are unhealthy, and what to do.',
  {
    selector: labelSelector('The Machines this policy watches, by their labels.'),
    unhealthyConditions: s.list(
      'A machine is unhealthy when any of these Node or Machine conditions has held for its duration.',
      s.object('A condition that marks a machine unhealthy once it lasts.', {
        type: s.string('Condition type, e.g. Ready or KernelDeadlock.', {
          maxLength: 316,
          minLength: 1,
          rules: [
            matchesRule(
              CONDITION_TYPE_PATTERN,
              "condition type must be a name like Ready or KernelDeadlock (letters, digits, '-', '_' and '.'), optionally after a DNS-subdomain prefix and '/'",
            ),
          ],
        }),
        status: s.stringEnum('The status that is unhealthy.', ['True', 'False', 'Unknown']),
        duration: duration('How long the condition must hold, e.g. 5m.'),
      }),
      { maxItems: 16, minItems: 1 },
    ),
    maxUnhealthy: s.optional(
      s.intOrString(
        'Circuit breaker: remediate nothing while more machines than this are unhealthy (a number or a percentage of the selected machines). Default "40%".',
        {
          maxLength: 4,
          default: '40%',
          rules: [
            cel<number | string>({
              rule: `type(self) == int ? self >= 0 : self.matches(r'${PERCENT_PATTERN}')`,
              message: 'maxUnhealthy must be a non-negative integer or a percentage from "1%" to "100%"',
              check: (self) => (typeof self === 'number' ? self >= 0 : percent.test(self)),
            }),
          ],
        },
      ),
    ),
    actions: s.list(
      'Escalating actions, tried in order until the machine is healthy. Every action takes from the pool disruption budget (maxUnavailable).',
      RemediationAction,
      { maxItems: 8, minItems: 1 },
    ),
  },
);
export type RemediationPolicySpec = Static<typeof RemediationPolicySpec>;

export const RemediationPolicyStatus = s.object('What the policy sees, as counts.', {
  observedGeneration: s.optional(observedGeneration()),
  expectedMachines: s.optional(s.integer('Machines selected.', { minimum: 0 })),
  currentHealthy: s.optional(s.integer('Machines healthy now.', { minimum: 0 })),
  remediationsAllowed: s.optional(
    s.integer('Remediations that may start before maxUnhealthy stops them.', { minimum: 0 }),
  ),
  inFlightRemediations: s.optional(s.integer('Remediations in progress.', { minimum: 0 })),
  conditions: s.optional(conditions('RemediationAllowed (False while the circuit breaker is open).')),
});

export const RemediationPolicySchema = resourceSchema(
  'RemediationPolicy says when a machine is unhealthy and which escalating actions fix it.',
  RemediationPolicySpec,
  RemediationPolicyStatus,
);
export type RemediationPolicy = Static<typeof RemediationPolicySchema>;

export const RemediationPolicyResource: ResourceDefinition<typeof RemediationPolicySchema> = {
  group: NODES_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'RemediationPolicy',
  plural: 'remediationpolicies',
  singular: 'remediationpolicy',
  shortNames: ['krp'],
  scope: 'Cluster',
  schema: RemediationPolicySchema,
  printerColumns: [
    {
      name: 'Expected',
      type: 'integer',
      jsonPath: '.status.expectedMachines',
      description: 'Machines selected.',
    },
    {
      name: 'Healthy',
      type: 'integer',
      jsonPath: '.status.currentHealthy',
      description: 'Healthy machines.',
    },
    {
      name: 'Allowed',
      type: 'integer',
      jsonPath: '.status.remediationsAllowed',
      description: 'Remediations allowed now.',
    },
    AGE_COLUMN,
  ],
};

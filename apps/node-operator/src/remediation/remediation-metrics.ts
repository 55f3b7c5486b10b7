import { findCondition } from '@kok/api';
import type { RemediationPolicy } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { RemediationPolicyConditions } from './remediation-plan.ts';

/** Where the policies' series come from: the RemediationPolicy cache (only `list` is read). */
export interface PolicySource {
  list(): readonly (RemediationPolicy & KubernetesObject)[];
}

/** One policy's status as numbers, the values its series carry. */
export interface PolicySeries {
  /** 1 while more machines are unhealthy than maxUnhealthy (StormActive=True). */
  stormActive: 0 | 1;
  expectedMachines: number;
  healthyMachines: number;
  remediationsAllowed: number;
  inFlightMachines: number;
}

/** A policy's series from its status; a policy not reconciled yet reads as empty and calm. */
export function policySeries(policy: RemediationPolicy): PolicySeries {
  const status = policy.status ?? {};
  return {
    stormActive:
      findCondition(status.conditions, RemediationPolicyConditions.StormActive)?.status === 'True' ? 1 : 0,
    expectedMachines: status.expectedMachines ?? 0,
    healthyMachines: status.currentHealthy ?? 0,
    remediationsAllowed: status.remediationsAllowed ?? 0,
    inFlightMachines: status.inFlightRemediations ?? 0,
  };
}

/**
 * The remediation controller's metrics: actions issued (counted as they are
 * issued), and the policy's status read from the cache at scrape time, so the
 * series agree with `kubectl get remediationpolicies`, exist for every policy
 * (0 included) and vanish with it.
 */
export class RemediationMetrics {
  readonly actions: Counter<'policy' | 'action'>;

  constructor(registry: Registry, policies: PolicySource) {
    const registers = [registry];
    this.actions = new Counter({
      name: 'kok_remediation_actions_total',
      help: 'Remediation actions issued, by policy and action type (RestartComponent, Reinstall, Reboot, Cordon, Drain…).',
      labelNames: ['policy', 'action'],
      registers,
      collect() {
        // Every action a policy can take has a series from the start, so rate() sees the first one.
        for (const policy of policies.list())
          for (const action of policy.spec.actions)
            this.inc({ policy: policy.metadata?.name ?? '', action: action.type }, 0);
      },
    });
    const gauges: [string, string, (s: PolicySeries) => number][] = [
      [
        'kok_remediation_storm_active',
        '1 while more machines are unhealthy than the policy’s maxUnhealthy (StormActive=True): remediation is stopped.',
        (s) => s.stormActive,
      ],
      [
        'kok_remediation_expected_machines',
        'Machines the policy selects (status.expectedMachines).',
        (s) => s.expectedMachines,
      ],
      [
        'kok_remediation_healthy_machines',
        'Selected machines healthy now (status.currentHealthy).',
        (s) => s.healthyMachines,
      ],
      [
        'kok_remediation_allowed_machines',
        'More machines that may start remediation now (status.remediationsAllowed; 0 during a storm or its cooldown).',
        (s) => s.remediationsAllowed,
      ],
      [
        'kok_remediation_in_flight_machines',
        'Machines under remediation now (status.inFlightRemediations).',
        (s) => s.inFlightMachines,
      ],
    ];
    for (const [name, help, value] of gauges)
      new Gauge({
        name,
        help,
        labelNames: ['policy'],
        registers,
        collect() {
          this.reset();
          for (const policy of policies.list())
            this.set({ policy: policy.metadata?.name ?? '' }, value(policySeries(policy)));
        },
      });
  }
}

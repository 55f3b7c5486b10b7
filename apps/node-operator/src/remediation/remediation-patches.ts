import { Annotations, metaTime } from '@kok/api';
import type { Machine } from '@kok/api';
import { OperatorAnnotations } from '../shared/resources.ts';
import type { RemediationActionPlan, RemediationRecord } from './remediation-plan.ts';

/** Merge patches the remediation writes to Machines, each guarded by the resourceVersion it was planned from. */
type MergePatch = Record<string, unknown>;

/** The annotation value: JSON a person can read with kubectl (startedAt in RFC 3339). */
export function formatRemediationRecord(record: RemediationRecord): string {
  return JSON.stringify({
    policy: record.policy,
    step: record.step,
    action: record.action,
    startedAt: metaTime(new Date(record.startedAt)),
    state: record.state,
    ...(record.cordoned ? { cordoned: true } : {}),
    ...(record.drainingBeforeReboot ? { drainingBeforeReboot: true } : {}),
  });
}

/**
 * The Machine patch that issues one action, with the resourceVersion the plan
 * was made from: RestartComponent and Reinstall bump restartGeneration /
 * reinstallGeneration and name their component (the agent acts on each increase), Cordon and
 * Drain set spec.unschedulable (the Node follows). Reboot cordons like Drain and waits for the Node to
 * empty: `rebootAfterDrainPatch` raises rebootGeneration once it has.
 * A cordon is only recorded as the remediation's when the Machine was not
 * cordoned already, so finishing never lifts someone else's.
 */
export function remediationActionPatch(
  machine: Machine,
  policy: string,
  act: RemediationActionPlan,
  previous: RemediationRecord | undefined,
  now: Date,
): MergePatch {
  const spec: Record<string, unknown> = {};
  const carried = previous && previous.state !== 'Succeeded' && previous.cordoned === true;
  let cordoned = carried;
  switch (act.action.type) {
    case 'RestartComponent':
      spec.restartGeneration = (machine.spec?.restartGeneration ?? 0) + 1;
      spec.restartComponent = act.action.component ?? null;
      break;
    case 'Reinstall':
      spec.reinstallGeneration = (machine.spec?.reinstallGeneration ?? 0) + 1;
      spec.reinstallComponent = act.action.component ?? null;
      break;
    case 'Cordon':
    case 'Drain':
    case 'Reboot':
      if (machine.spec?.unschedulable !== true) {
        spec.unschedulable = true;
        cordoned = true;
      }
      break;
  }
  const record: RemediationRecord = {
    policy,
    step: act.step,
    action: act.action.type,
    startedAt: now.getTime(),
    state: 'InProgress',
    ...(cordoned ? { cordoned: true } : {}),
    ...(act.action.type === 'Reboot' ? { drainingBeforeReboot: true } : {}),
  };
  return {
    metadata: {
      resourceVersion: machine.metadata?.resourceVersion,
      annotations: {
        [OperatorAnnotations.remediation]: formatRemediationRecord(record),
        // A person's request is answered by this action; a machine still unhealthy climbs on by its conditions.
        [Annotations.remediateMachine]: null,
      },
    },
    ...(Object.keys(spec).length > 0 ? { spec } : {}),
  };
}

/**
 * Issues the reboot of a Reboot action whose drain finished: raises rebootGeneration, and restarts the
 * action's clock, so its timeout measures the reboot, not the time the pods took to leave.
 */
export function rebootAfterDrainPatch(machine: Machine, record: RemediationRecord, now: Date): MergePatch {
  const { drainingBeforeReboot: _, ...issued } = record;
  return {
    metadata: {
      resourceVersion: machine.metadata?.resourceVersion,
      annotations: {
        [OperatorAnnotations.remediation]: formatRemediationRecord({ ...issued, startedAt: now.getTime() }),
      },
    },
    spec: { rebootGeneration: (machine.spec?.rebootGeneration ?? 0) + 1 },
  };
}

/** Closes a remediation: the record says Succeeded (the last action stays readable), its cordon is lifted. */
export function remediationFinishPatch(machine: Machine, record: RemediationRecord | undefined): MergePatch {
  const annotations: Record<string, string | null> = {
    [OperatorAnnotations.remediation]: record
      ? formatRemediationRecord({ ...record, state: 'Succeeded', cordoned: false })
      : null,
    // A request by a person is answered once the machine is healthy again.
    [Annotations.remediateMachine]: null,
  };
  return {
    metadata: { resourceVersion: machine.metadata?.resourceVersion, annotations },
    ...(record?.cordoned ? { spec: { unschedulable: false } } : {}),
  };
}

/**
 * Its policy is gone: the machine leaves remediation as it is (a cordon the
 * remediation made is lifted), so it no longer holds a place in the pool's
 * budget for a remediation nobody will finish.
 */
export function remediationReleasePatch(machine: Machine, record: RemediationRecord): MergePatch {
  return {
    metadata: {
      resourceVersion: machine.metadata?.resourceVersion,
      annotations: { [OperatorAnnotations.remediation]: null },
    },
    ...(record.cordoned ? { spec: { unschedulable: false } } : {}),
  };
}

/** Every action was tried: the machine stays under remediation (and out of the rollout) for a person to look at. */
export function remediationExhaustedPatch(machine: Machine, record: RemediationRecord): MergePatch {
  return {
    metadata: {
      resourceVersion: machine.metadata?.resourceVersion,
      annotations: {
        [OperatorAnnotations.remediation]: formatRemediationRecord({ ...record, state: 'Exhausted' }),
      },
    },
  };
}

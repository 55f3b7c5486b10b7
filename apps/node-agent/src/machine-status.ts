/**
 * The part of Machine.status the agent owns, computed from what it observed.
 * Pure. The agent applies it with server-side apply under its own field
 * manager, so the node-operator's fields (phase, nodeRef, Drained…) are
 * untouched; it writes only when this changes, plus a slow heartbeat.
 */
import { sameVersion } from './version-check.ts';
import type { VersionReport } from './version-check.ts';
import type { Condition, LastOperation, MachineStatus } from '@kok/api';
import { MachineConditions, metaTime, setCondition } from '@kok/api/core';
import type { ConditionUpdate } from '@kok/api';
import type { DesiredState } from './desired-state.ts';
import type { Health } from './health-check.ts';
import { boundedText } from './bounded-text.ts';

export const FILES_IN_SYNC = 'FilesInSync';

export interface ComponentObservation {
  readonly current: string | undefined;
  /** Undefined when the component has no service. */
  readonly running: boolean | undefined;
  /** Unknown when there is no check or none has finished since the last start. */
  readonly health: Health;
  readonly hasHealthCheck: boolean;
  readonly healthMessage: string;
  /** Why the desired version is not installed (e.g. its checksum did not match). */
  readonly refusal: string | undefined;
  /** What spec.versionCheck read from the installed binary; undefined without a check. */
  readonly versionReport?: VersionReport;
}

export interface StatusInput {
  readonly desired: DesiredState;
  readonly components: ReadonlyMap<string, ComponentObservation>;
  /** sha256 on disk per desired path (undefined: missing). */
  readonly files: ReadonlyMap<string, string | undefined>;
  /** Keyed digest on disk of each file from a Secret: published instead of its sha256. */
  readonly keyedDigests: ReadonlyMap<string, string | undefined>;
  /** The last failure of a convergence, for AgentReady. */
  readonly error: { readonly reason: string; readonly message: string } | undefined;
  /** What the spec no longer names and is still on the host, being removed: the host is not at its revision yet. */
  readonly removing: readonly string[];
  /** Files found changed behind the agent's back in the last convergence. */
  readonly drift: { readonly paths: readonly string[]; readonly restored: boolean } | undefined;
  readonly converging: boolean;
  readonly operation: LastOperation | undefined;
  readonly previous: MachineStatus | undefined;
  readonly agentVersion: string;
  readonly generation: number | undefined;
  /** Remediation generations carried out (restart, reinstall, reboot). */
  readonly remediated: { readonly restart: number; readonly reinstall: number; readonly reboot: number };
  /** Boot ID of the host now. */
  readonly bootID: string | undefined;
  readonly now: Date;
}

export type AgentStatus = Pick<
  MachineStatus,
  | 'revision'
  | 'components'
  | 'files'
  | 'agent'
  | 'conditions'
  | 'lastOperation'
  | 'observedRestartGeneration'
  | 'observedReinstallGeneration'
  | 'observedRebootGeneration'
  | 'bootID'
>;

type ComponentState = NonNullable<MachineStatus['components']>[number];

export function componentState(
  name: string,
  desiredVersion: string,
  seen: ComponentObservation | undefined,
  converging: boolean,
): ComponentState {
  const base = { name, ...(seen?.current ? { version: seen.current } : {}) };
  const refusal = seen?.refusal ? `; ${seen.refusal}` : '';
  if (!seen?.current) {
    if (seen?.refusal) return { ...base, state: 'Failed', message: seen.refusal };
    return { ...base, state: converging ? 'Installing' : 'Pending', message: `installing ${desiredVersion}` };
  }
  if (seen.current !== desiredVersion && !seen.refusal)
    return { ...base, state: 'Installing', message: `upgrading to ${desiredVersion}` };
  const report = seen.versionReport;
  if (report && 'error' in report)
    return { ...base, state: 'Failed', message: `versionCheck failed: ${report.error}` };
  if (report && !sameVersion(report.reported, desiredVersion))
    return {
      ...base,
      version: report.reported,
      state: 'Failed',
      message: `versionCheck: the installed binary reports ${report.reported}, not ${desiredVersion}`,
    };
  if (seen.running === false)
    return {
      ...base,
      state: converging ? 'Installing' : 'Stopped',
      message: `service not running${refusal}`,
    };
  if (seen.health === 'Failed')
    return { ...base, state: 'Failed', message: `health check failing: ${seen.healthMessage}${refusal}` };
  if (seen.hasHealthCheck && seen.health === 'Unknown')
    return { ...base, state: 'Installing', message: `waiting for a passing health check${refusal}` };
  return seen.refusal ? { ...base, state: 'Running', message: seen.refusal } : { ...base, state: 'Running' };
}

/** True when every desired component runs healthy at its version and every file matches. */
export function isAtDesiredState(input: StatusInput, states: readonly ComponentState[]): boolean {
  return (
    input.desired.problems.length === 0 &&
    input.error === undefined &&
    input.removing.length === 0 &&
    states.every((s) => s.state === 'Running' && !s.message) &&
    input.desired.components.every((c) => input.components.get(c.name)?.current === c.version) &&
    input.desired.files.every((f) => input.files.get(f.path) === f.sha256)
  );
}

/**
 * `since` stays what it was while a component keeps its state and version,
 * so an unchanged host produces an unchanged status (and no write).
 */
export function withSince(
  state: ComponentState,
  previous: readonly ComponentState[] | undefined,
  now: Date,
): ComponentState {
  const before = previous?.find((p) => p.name === state.name);
  const unchanged = before?.state === state.state && before.version === state.version && before.since;
  return { ...state, since: unchanged ? before.since : metaTime(now) };
}

export function agentStatus(input: StatusInput): AgentStatus {
  const { desired, now } = input;
  const states = desired.components.map((c) =>
    withSince(
      componentState(c.name, c.version, input.components.get(c.name), input.converging),
      input.previous?.components,
      now,
    ),
  );
  const atDesired = isAtDesiredState(input, states);
  const previousCurrent = input.previous?.revision?.current;
  // Once the agent changes the host toward another revision, the host runs the old one no more: a kill or a
  // failed step must not leave it claimed, or a rollback to it would count a half-changed machine as done.
  const leavingCurrent = input.converging && desired.revision !== previousCurrent;
  const current = atDesired ? desired.revision : leavingCurrent ? undefined : previousCurrent;
  const failed = states.filter((s) => s.state === 'Failed');
  const problem = desired.problems[0] ?? input.error;

  const g = input.generation === undefined ? {} : { observedGeneration: input.generation };
  const updates: ConditionUpdate[] = [
    problem
      ? { type: MachineConditions.AgentReady, status: 'False', ...problem, ...g }
      : {
          type: MachineConditions.AgentReady,
          status: 'True',
          reason: 'Converged',
          message: atDesired ? '' : 'converging',
          ...g,
        },
    atDesired
      ? {
          type: MachineConditions.UpToDate,
          status: 'True',
          reason: 'AtDesiredRevision',
          message: desired.revision ? `running revision ${desired.revision}` : '',
          ...g,
        }
      : {
          type: MachineConditions.UpToDate,
          status: 'False',
          reason: failed.length ? 'ComponentFailed' : problem ? problem.reason : 'Converging',
          message: failed.length
            ? failed.map((s) => `${s.name}: ${s.message ?? 'failed'}`).join('; ')
            : (problem?.message ??
              `converging to revision ${desired.revision ?? '(none)'}` +
                (input.removing.length ? ` (removing ${input.removing.join(', ')})` : '')),
          ...g,
        },
    {
      type: MachineConditions.Updating,
      status: input.converging ? 'True' : 'False',
      reason: input.converging ? 'Converging' : 'Idle',
      message: input.converging ? (input.operation?.message ?? '') : '',
      ...g,
    },
    input.drift && !input.drift.restored
      ? {
          type: FILES_IN_SYNC,
          status: 'False',
          reason: 'DriftDetected',
          message: `changed on the host: ${input.drift.paths.join(', ')}`,
          ...g,
        }
      : input.drift
        ? {
            type: FILES_IN_SYNC,
            status: 'True',
            reason: 'DriftRestored',
            message: `restored after a change on the host: ${input.drift.paths.join(', ')}`,
            ...g,
          }
        : {
            type: FILES_IN_SYNC,
            status: desired.files.every((f) => input.files.get(f.path) === f.sha256) ? 'True' : 'False',
            reason: desired.files.every((f) => input.files.get(f.path) === f.sha256) ? 'InSync' : 'Writing',
            message: '',
            ...g,
          },
  ];
  let conditions: Condition[] =
    input.previous?.conditions?.filter((c) => updates.some((u) => u.type === c.type)) ?? [];
  for (const update of updates) conditions = setCondition(conditions, withBoundedMessage(update), now);

  return {
    revision: {
      ...(current ? { current } : {}),
      ...(desired.revision ? { desired: desired.revision } : {}),
    },
    components: states.map(withBoundedMessage),
    files: desired.files.flatMap((f): NonNullable<MachineStatus['files']> => {
      const sha256 = input.files.get(f.path);
      if (!sha256) return [];
      if (!f.secret) return [{ path: f.path, sha256 }];
      const hmacSha256 = input.keyedDigests.get(f.path);
      return [hmacSha256 ? { path: f.path, hmacSha256 } : { path: f.path }];
    }),
    agent: { version: input.agentVersion, lastHeartbeatTime: metaTime(now) },
    conditions,
    observedRestartGeneration: input.remediated.restart,
    observedReinstallGeneration: input.remediated.reinstall,
    observedRebootGeneration: input.remediated.reboot,
    ...(input.bootID ? { bootID: input.bootID } : {}),
    ...(input.operation ? { lastOperation: withBoundedMessage(input.operation) } : {}),
  };
}

/** The condition types the agent owns; the node-operator's (Drained, NodeHealthy…) are never in its writes. */
export const AGENT_CONDITIONS: readonly string[] = [
  MachineConditions.AgentReady,
  MachineConditions.UpToDate,
  MachineConditions.Updating,
  FILES_IN_SYNC,
];

/**
 * The status of a pass that failed before it could report: what the agent
 * last said (its own fields only), with AgentReady False and why. Without
 * it, an input that makes every pass throw would leave the Machine silent
 * and a rollout waiting forever.
 */
export function withFailedPass(
  previous: AgentStatus | undefined,
  failure: { readonly reason: string; readonly message: string },
  input: { readonly agentVersion: string; readonly generation: number | undefined; readonly now: Date },
): AgentStatus {
  const own = (previous?.conditions ?? []).filter((c) => AGENT_CONDITIONS.includes(c.type));
  const conditions = setCondition(
    own,
    withBoundedMessage({
      type: MachineConditions.AgentReady,
      status: 'False',
      ...failure,
      ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
    }),
    input.now,
  );
  const kept = Object.fromEntries(
    AGENT_STATUS_FIELDS.flatMap((field) =>
      previous?.[field] === undefined ? [] : [[field, previous[field]]],
    ),
  ) as AgentStatus;
  return {
    ...kept,
    agent: { version: input.agentVersion, lastHeartbeatTime: metaTime(input.now) },
    conditions,
  };
}

const AGENT_STATUS_FIELDS = [
  'revision',
  'components',
  'files',
  'lastOperation',
  'observedRestartGeneration',
  'observedReinstallGeneration',
  'observedRebootGeneration',
  'bootID',
] as const satisfies readonly (keyof AgentStatus)[];

/**
 * What the status schema holds at most: 4096 characters for a component or
 * operation message. A longer one would make the apiserver refuse the whole
 * write. (Condition messages may be longer, but nothing the agent says needs
 * it.)
 */
const STATUS_MESSAGE_LIMIT = 4096;

function withBoundedMessage<T extends { readonly message?: string | undefined }>(value: T): T {
  return value.message !== undefined && value.message.length > STATUS_MESSAGE_LIMIT
    ? { ...value, message: boundedText(value.message, STATUS_MESSAGE_LIMIT) }
    : value;
}

/** The status without the heartbeat: two statuses that differ only in time need no write. */
export function withoutHeartbeat(status: AgentStatus): unknown {
  return { ...status, agent: { ...status.agent, lastHeartbeatTime: undefined } };
}

/** Write when something changed, or when the last write is older than the heartbeat interval. */
export function shouldWriteStatus(
  next: AgentStatus,
  lastWritten: { status: AgentStatus; at: number } | undefined,
  now: number,
  heartbeatMs: number,
): boolean {
  if (!lastWritten) return true;
  if (now - lastWritten.at >= heartbeatMs) return true;
  return JSON.stringify(withoutHeartbeat(next)) !== JSON.stringify(withoutHeartbeat(lastWritten.status));
}

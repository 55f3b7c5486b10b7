/**
 * `kubectl kok machine describe` as data: what the Machine asks for next to
 * what the agent found on the host, item by item. Pure.
 */
import { createHash } from 'node:crypto';
import type { Condition, FileSpec, LastOperation, Machine, Taint } from '@kok/api';

/**
 * yes: desired and observed agree; no: they differ; missing: desired but not
 * reported; extra: reported but not desired; unknown: the desired content lives
 * in a Secret or ConfigMap, which describe does not read.
 */
export type Match = 'yes' | 'no' | 'missing' | 'extra' | 'unknown';

export interface ComponentComparison {
  name: string;
  desired?: string;
  reported?: string;
  state?: string;
  match: Match;
  message?: string;
}

export interface FileComparison {
  path: string;
  /** `inline`, `ConfigMap ns/name[key]` or `Secret ns/name[key]`; `-` for a file nobody asked for. */
  source: string;
  desiredSha256?: string;
  hostSha256?: string;
  match: Match;
}

export interface MachineDescription {
  name: string;
  pool?: string;
  address?: string;
  node?: string;
  phase?: string;
  revision: {
    /** spec.revision: what the node-operator told the machine to run. */
    desired?: string;
    /** status.revision.desired: what the agent is converging to. */
    converging?: string;
    /** status.revision.current: what the host fully runs. */
    current?: string;
    atDesired: boolean;
  };
  agent?: { version?: string; lastHeartbeatTime?: string };
  unschedulable: boolean;
  taints: Taint[];
  components: ComponentComparison[];
  files: FileComparison[];
  conditions: Condition[];
  lastOperation?: LastOperation;
}

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

function sourceOf(file: FileSpec): string {
  if (file.content !== undefined) return 'inline';
  if (file.configMapRef)
    return `ConfigMap ${file.configMapRef.namespace}/${file.configMapRef.name}[${file.configMapRef.key}]`;
  if (file.secretRef)
    return `Secret ${file.secretRef.namespace}/${file.secretRef.name}[${file.secretRef.key}]`;
  return '<none>';
}

export function compareComponents(machine: Machine): ComponentComparison[] {
  const reported = new Map((machine.status?.components ?? []).map((c) => [c.name, c]));
  const rows: ComponentComparison[] = (machine.spec?.components ?? []).map((wanted) => {
    const seen = reported.get(wanted.name);
    reported.delete(wanted.name);
    const row: ComponentComparison = {
      name: wanted.name,
      desired: wanted.version,
      match: !seen ? 'missing' : seen.version === wanted.version ? 'yes' : 'no',
    };
    if (seen?.version !== undefined) row.reported = seen.version;
    if (seen) row.state = seen.state;
    if (seen?.message) row.message = seen.message;
    return row;
  });
  for (const seen of reported.values()) {
    const row: ComponentComparison = { name: seen.name, state: seen.state, match: 'extra' };
    if (seen.version !== undefined) row.reported = seen.version;
    if (seen.message) row.message = seen.message;
    rows.push(row);
  }
  return rows;
}

export function compareFiles(machine: Machine): FileComparison[] {
  // A file from a Secret is reported with a keyed digest (hmacSha256) only: on the host, but not comparable here.
  const onHost = new Map((machine.status?.files ?? []).map((f) => [f.path, f.sha256]));
  const rows: FileComparison[] = (machine.spec?.files ?? []).map((wanted) => {
    const present = onHost.has(wanted.path);
    const hostSha256 = onHost.get(wanted.path);
    onHost.delete(wanted.path);
    const desiredSha256 = wanted.content === undefined ? undefined : sha256Hex(wanted.content);
    const match: Match = !present
      ? 'missing'
      : desiredSha256 === undefined || hostSha256 === undefined
        ? 'unknown'
        : desiredSha256 === hostSha256
          ? 'yes'
          : 'no';
    const row: FileComparison = { path: wanted.path, source: sourceOf(wanted), match };
    if (desiredSha256 !== undefined) row.desiredSha256 = desiredSha256;
    if (hostSha256 !== undefined) row.hostSha256 = hostSha256;
    return row;
  });
  for (const [path, hostSha256] of onHost)
    rows.push({ path, source: '-', ...(hostSha256 === undefined ? {} : { hostSha256 }), match: 'extra' });
  return rows;
}

export function describeMachine(machine: Machine): MachineDescription {
  const spec = machine.spec ?? {};
  const status = machine.status ?? {};
  const revision: MachineDescription['revision'] = {
    atDesired: spec.revision !== undefined && status.revision?.current === spec.revision,
  };
  if (spec.revision !== undefined) revision.desired = spec.revision;
  if (status.revision?.desired !== undefined) revision.converging = status.revision.desired;
  if (status.revision?.current !== undefined) revision.current = status.revision.current;
  const description: MachineDescription = {
    name: machine.metadata?.name ?? '',
    revision,
    unschedulable: spec.unschedulable === true,
    taints: spec.taints ?? [],
    components: compareComponents(machine),
    files: compareFiles(machine),
    conditions: status.conditions ?? [],
  };
  if (spec.pool !== undefined) description.pool = spec.pool;
  if (spec.address !== undefined) description.address = spec.address;
  if (status.nodeRef) description.node = status.nodeRef.name;
  if (status.phase !== undefined) description.phase = status.phase;
  if (status.agent) description.agent = status.agent;
  if (status.lastOperation) description.lastOperation = status.lastOperation;
  return description;
}

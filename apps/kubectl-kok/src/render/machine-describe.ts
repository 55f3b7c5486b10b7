/**
 * `kubectl kok machine describe` as text: desired against observed, side by side.
 */
import type { MachineDescription } from '../machine-description.ts';
import { formatAge } from './age.ts';
import { renderConditions } from './conditions.ts';
import { indent, renderFields, renderTable } from './table.ts';

/** Hashes are cut to this many hex digits: enough to tell files apart at a glance. */
export const SHORT_SHA_LENGTH = 12;

const NONE = '<none>';
const short = (sha: string | undefined) => (sha === undefined ? '-' : sha.slice(0, SHORT_SHA_LENGTH));

export function revisionLine(revision: MachineDescription['revision']): string {
  const parts = [
    `desired ${revision.desired ?? NONE}`,
    `agent converging to ${revision.converging ?? NONE}`,
    `current ${revision.current ?? NONE}`,
  ];
  const verdict =
    revision.desired === undefined ? '' : revision.atDesired ? ' (at desired)' : ' (NOT at desired)';
  return parts.join(', ') + verdict;
}

export function lastOperationLine(operation: MachineDescription['lastOperation'], now: Date): string {
  if (!operation) return NONE;
  const progress = operation.progress === undefined ? '' : ` ${operation.progress}%`;
  const when = operation.finishedAt
    ? `, finished ${formatAge(operation.finishedAt, now)} ago`
    : operation.startedAt
      ? `, started ${formatAge(operation.startedAt, now)} ago`
      : '';
  return `${operation.type} ${operation.state}${progress}${when}${operation.message ? `: ${operation.message}` : ''}`;
}

export function renderMachineDescription(description: MachineDescription, now: Date): string {
  const agent = description.agent
    ? `${description.agent.version ?? 'version unknown'}, last heartbeat ${
        description.agent.lastHeartbeatTime
          ? `${formatAge(description.agent.lastHeartbeatTime, now)} ago`
          : 'never'
      }`
    : 'no report yet';
  const fields = renderFields([
    ['Name', description.name],
    ['Pool', description.pool ?? NONE],
    ['Address', description.address ?? NONE],
    ['Node', description.node ?? NONE],
    ['Phase', description.phase ?? NONE],
    ['Revision', revisionLine(description.revision)],
    ['Agent', agent],
    ['Unschedulable', description.unschedulable ? 'yes (spec.unschedulable)' : 'no'],
    [
      'Taints',
      description.taints.length === 0
        ? NONE
        : description.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', '),
    ],
    ['Last operation', lastOperationLine(description.lastOperation, now)],
  ]);
  const components =
    description.components.length === 0
      ? NONE + '\n'
      : renderTable(
          ['Name', 'Desired', 'Reported', 'State', 'Match', 'Message'],
          description.components.map((c) => [
            c.name,
            c.desired ?? '-',
            c.reported ?? '-',
            c.state ?? '-',
            c.match,
            c.message ?? '',
          ]),
        );
  const files =
    description.files.length === 0
      ? NONE + '\n'
      : renderTable(
          ['Path', 'Source', 'Desired sha256', 'Host sha256', 'Match'],
          description.files.map((f) => [
            f.path,
            f.source,
            short(f.desiredSha256),
            short(f.hostSha256),
            f.match,
          ]),
        );
  return (
    fields +
    '\nComponents (desired vs reported by the agent):\n' +
    indent(components) +
    '\nFiles (desired vs on the host):\n' +
    indent(files) +
    '\nConditions:\n' +
    indent(renderConditions(description.conditions, now))
  );
}

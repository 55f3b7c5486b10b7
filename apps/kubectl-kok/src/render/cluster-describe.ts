/**
 * `kubectl kok cluster get <name>` as text: versions, endpoint, where the
 * kubeconfig is, each control-plane component, gates and conditions.
 */
import type { Cluster } from '@kok/api';
import { formatAge, formatDuration } from './age.ts';
import { renderConditions } from './conditions.ts';
import { lastOperationLine } from './machine-describe.ts';
import { indent, renderFields, renderTable } from './table.ts';

const NONE = '<none>';

/** status.components keys, in bring-up order, with the names people know them by. */
export const CONTROL_PLANE_COMPONENTS = [
  ['etcd', 'etcd'],
  ['apiServer', 'kube-apiserver'],
  ['controllerManager', 'kube-controller-manager'],
  ['scheduler', 'kube-scheduler'],
  ['nodeOperator', 'node-operator'],
] as const;

export function renderClusterDescription(cluster: Cluster, now: Date): string {
  const status = cluster.status ?? {};
  const name = cluster.metadata?.name ?? '';
  const namespace = cluster.metadata?.namespace ?? '';
  const version = status.version;
  const kubeconfig = status.kubeconfigSecretRef
    ? `Secret ${namespace}/${status.kubeconfigSecretRef.name}[${status.kubeconfigSecretRef.key}] ` +
      `(print it: kubectl kok cluster kubeconfig ${name} -n ${namespace})`
    : `${NONE} (not written yet)`;
  const fields = renderFields([
    ['Name', name],
    ['Namespace', namespace],
    ['Phase', status.phase ?? NONE],
    [
      'Version',
      `desired ${cluster.spec.version}, running ${version?.current ?? NONE}` +
        (version?.desired && version.desired !== cluster.spec.version
          ? `, rolling out ${version.desired}`
          : ''),
    ],
    ['Endpoint', status.endpoint ?? NONE],
    ['Kubeconfig', kubeconfig],
    ['Certificates', status.certificates?.notAfter ? `first expires ${status.certificates.notAfter}` : NONE],
    ['Paused', cluster.spec.paused === true ? 'yes (spec.paused)' : 'no'],
    ['Last operation', lastOperationLine(status.lastOperation, now)],
  ]);
  const components = renderTable(
    ['Component', 'Ready', 'Version'],
    CONTROL_PLANE_COMPONENTS.map(([key, label]) => {
      const observed = status.components?.[key];
      return [
        label,
        observed ? `${observed.ready ?? 0}/${observed.replicas ?? 0}` : '-',
        observed?.version || (observed ? 'mixed' : '-'),
      ];
    }),
  );
  const gates =
    status.gates && status.gates.length > 0
      ? renderTable(
          ['Gate', 'Started', 'Took'],
          status.gates.map((gate) => [
            gate.name,
            `${formatAge(gate.startedAt, now)} ago`,
            gate.durationMilliseconds !== undefined
              ? formatDuration(gate.durationMilliseconds)
              : gate.completedAt
                ? formatDuration(Date.parse(gate.completedAt) - Date.parse(gate.startedAt))
                : 'waiting',
          ]),
        )
      : NONE + '\n';
  return (
    fields +
    '\nControl plane:\n' +
    indent(components) +
    '\nGates (last operation):\n' +
    indent(gates) +
    '\nConditions:\n' +
    indent(renderConditions(status.conditions, now))
  );
}

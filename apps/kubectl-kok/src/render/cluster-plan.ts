/** `kubectl kok cluster plan <name> --version V` as text. */
import type { ClusterPlanView } from '../cluster-plan.ts';
import { renderFields, renderTable } from './table.ts';

export function renderClusterPlan(view: ClusterPlanView): string {
  const target = view.targetVersion;
  const verdict = view.allowed
    ? view.specVersion === target
      ? `nothing to do: spec.version is already ${target}`
      : 'yes'
    : `no, the apiserver refuses it: ${view.refusals.join('; ')}`;
  const etcd = view.etcd.external
    ? 'external (spec.etcd.external): not run by the operator, unchanged'
    : view.etcd.to === undefined
      ? `none paired with ${target}`
      : view.etcd.changes
        ? `${view.etcd.from ?? '<none>'} → ${view.etcd.to}`
        : `${view.etcd.to}, unchanged${view.etcd.pinned ? ' (spec.etcd.version)' : ` (paired with ${minorOf(target)})`}`;
  const fields: [string, string][] = [
    ['Cluster', `${view.namespace}/${view.cluster}`],
    ['Version', `${view.currentVersion} → ${target}`],
    ['Allowed', verdict],
    ['etcd', etcd],
  ];
  if (view.inProgress) fields.push(['In progress', view.inProgress]);
  if (view.paused)
    fields.push(['Paused', 'yes: the operator writes nothing for this Cluster until it is resumed']);
  if (view.blocked)
    fields.push(['Blocked', `the operator would hold the Cluster (Degraded): ${view.blocked}`]);
  if (view.heldForKubelets)
    fields.push(['Held', `the operator holds the upgrade for its kubelets: ${view.heldForKubelets}`]);

  const rows = view.components.map((c) => [
    c.step === undefined ? '-' : String(c.step),
    c.binary,
    c.note ??
      (c.changes
        ? `${c.from ?? '<none>'} → ${c.to ?? '<none>'}`
        : `${c.to ?? c.from ?? '<none>'} (unchanged)`),
    c.note ? '' : c.changes ? (c.toImage ?? '') : '',
    c.gate,
    c.waitsFor.join(', '),
  ]);
  const order =
    view.allowed && view.specVersion !== target
      ? view.steps.length === 0
        ? view.blocked
          ? 'No component moves while the Cluster is held.\n'
          : 'No component changes version.\n'
        : `Upgrade order (each step starts once the gates of the one before are True at the new version):\n${renderTable(
            ['Step', 'Component', 'Version', 'Image', 'Gate', 'Waits for'],
            rows,
          )}The node-operator runs spec.nodeOperator.version, which the Kubernetes version does not change.\n`
      : '';

  return [renderFields(fields), order, kubeletSection(view)].filter((part) => part !== '').join('\n');
}

function kubeletSection(view: ClusterPlanView): string {
  const kubelets = view.kubelets;
  if (!kubelets.readable) return `Kubelets: could not be read: ${kubelets.reason}\n`;
  if (kubelets.checked.length === 0) return 'Kubelets: the biz-cluster has no Nodes\n';
  const head =
    kubelets.problems === 0
      ? `Kubelets: all ${kubelets.checked.length} within the skew policy of an apiserver at ${view.targetVersion}\n`
      : `Kubelets: ${kubelets.problems} of ${kubelets.checked.length} outside the skew policy of an apiserver at ${view.targetVersion}\n`;
  return (
    head +
    renderTable(
      ['Node', 'Kubelet', 'Skew'],
      kubelets.checked.map((k) => [k.node, k.kubeletVersion, k.problem ?? 'ok']),
    )
  );
}

function minorOf(version: string): string {
  return /^v?(\d+\.\d+)/.exec(version)?.[1] ?? version;
}

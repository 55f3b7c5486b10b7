import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CLUSTER_ADMINS_GROUP, NODE_OPERATOR_USER } from '../pki/certificates.ts';
import { NODE_OPERATOR_NAMESPACE } from '../components/node-operator.ts';
import {
  clusterAdminsBinding,
  nodeOperatorAccessObjects,
  NODE_OPERATOR_METRICS_AUTH_ROLE,
  nodeOperatorLeaderElectionRules,
  nodeOperatorMetricsAuthRules,
  nodeOperatorRules,
} from './biz-access.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

interface ChartObject {
  kind: string;
  rules?: unknown[];
}

/** The chart's RBAC objects with every templated line left out (names, labels, the release namespace). */
function chartRbac(template = 'rbac.yaml'): ChartObject[] {
  const text = readFileSync(join(repositoryRoot, 'charts/node-operator/templates', template), 'utf8')
    .split('\n')
    .filter((line) => !line.includes('{{'))
    .join('\n');
  return parseAllDocuments(text).map((d) => d.toJS() as ChartObject);
}

const bindingsOf = (kind: string) =>
  nodeOperatorAccessObjects.filter((o) => o.kind === kind) as unknown as {
    metadata: { name: string; namespace?: string };
    roleRef: { kind: string; name: string };
    subjects: { kind: string; name: string }[];
  }[];

describe("the node-operator's access in the biz-cluster", () => {
  it('grants exactly the rules of charts/node-operator/templates/rbac.yaml', () => {
    const chart = chartRbac();
    const clusterRoles = chart.filter((o) => o.kind === 'ClusterRole');
    const roles = chart.filter((o) => o.kind === 'Role');
    expect(clusterRoles).toHaveLength(1);
    expect(roles).toHaveLength(1);
    expect(nodeOperatorRules).toEqual(clusterRoles[0]?.rules);
    expect(nodeOperatorLeaderElectionRules).toEqual(roles[0]?.rules);
  });

  it('grants exactly the rules of the metrics-auth ClusterRole of charts/node-operator/templates/metrics-auth.yaml', () => {
    const chartRoles = chartRbac('metrics-auth.yaml').filter((o) => o.kind === 'ClusterRole');
    const metricsAuth = chartRoles.find((o) => JSON.stringify(o.rules).includes('tokenreviews'));
    expect(nodeOperatorMetricsAuthRules).toEqual(metricsAuth?.rules);
    const role = nodeOperatorAccessObjects.find(
      (o) => o.kind === 'ClusterRole' && o.metadata?.name === NODE_OPERATOR_METRICS_AUTH_ROLE,
    );
    expect(role).toMatchObject({ rules: nodeOperatorMetricsAuthRules });
    expect(
      bindingsOf('ClusterRoleBinding').find((b) => b.roleRef.name === NODE_OPERATOR_METRICS_AUTH_ROLE)
        ?.subjects,
    ).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NODE_OPERATOR_USER }]);
  });

  it("binds the ClusterRole and the Lease Role to the node-operator kubeconfig's user, the Role in the namespace it runs against", () => {
    const [clusterBinding] = bindingsOf('ClusterRoleBinding');
    const [leaseBinding] = bindingsOf('RoleBinding');
    expect(clusterBinding?.roleRef.kind).toBe('ClusterRole');
    expect(clusterBinding?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NODE_OPERATOR_USER },
    ]);
    expect(leaseBinding?.metadata.namespace).toBe(NODE_OPERATOR_NAMESPACE);
    expect(leaseBinding?.roleRef.kind).toBe('Role');
    expect(leaseBinding?.subjects).toEqual(clusterBinding?.subjects);
    const kinds = nodeOperatorAccessObjects.map((o) => o.kind);
    expect(kinds.indexOf('Namespace')).toBeLessThan(kinds.indexOf('Role'));
  });

  it("makes the admin kubeconfig's group, and nothing else, cluster-admin", () => {
    expect(clusterAdminsBinding).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CLUSTER_ADMINS_GROUP }],
    });
    for (const binding of [...bindingsOf('ClusterRoleBinding'), ...bindingsOf('RoleBinding')])
      expect(binding.roleRef.name).not.toBe('cluster-admin');
  });
});

// Every selector of a chart picks its own pods and no others: the node-operator's Deployment and the node-agent
// DaemonSet share the chart's name and instance labels, so a selector of the operator's pods that stops there
// also takes in every agent (a PodDisruptionBudget counting agents, a NetworkPolicy on them, agent endpoints in
// the operator's metrics Service). Rendered with helm template.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartsDir, helm } from './helm.ts';

type Labels = Record<string, string>;
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}
interface Rendered {
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec?: Record<string, unknown>;
}
interface PodTemplate {
  metadata: { labels: Labels };
  spec: {
    affinity?: {
      podAntiAffinity?: {
        preferredDuringSchedulingIgnoredDuringExecution?: {
          podAffinityTerm: { labelSelector: LabelSelector };
        }[];
      };
    };
  };
}

const RELEASE = 'probe';

async function render(chart: string): Promise<Rendered[]> {
  const result = await helm(
    'template',
    RELEASE,
    join(chartsDir, chart),
    '-n',
    'kok-system',
    '--set',
    'serviceMonitor.enabled=true',
  );
  expect(result.code, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

function find(objects: readonly Rendered[], kind: string, name: string): Rendered {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`the chart renders no ${kind} ${name}`);
  return object;
}

/** matchLabels semantics; the charts use nothing else, and an expression here must not pass unread. */
function selects(selector: LabelSelector | Labels | undefined, labels: Labels): boolean {
  if (!selector) throw new Error('no selector');
  const { matchLabels, matchExpressions } = (
    'matchLabels' in selector || 'matchExpressions' in selector ? selector : { matchLabels: selector }
  ) as LabelSelector;
  if (matchExpressions?.length) throw new Error('matchExpressions are not evaluated by this test');
  const required = Object.entries(matchLabels ?? {});
  return required.length > 0 && required.every(([key, value]) => labels[key] === value);
}

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job']);
const podTemplateOf = (workload: Rendered): PodTemplate => workload.spec?.template as PodTemplate;

/** The names of the workloads whose pods `selector` selects, of all the chart renders. */
function selectedWorkloads(
  objects: readonly Rendered[],
  selector: LabelSelector | Labels | undefined,
): string[] {
  return objects
    .filter((o) => WORKLOADS.has(o.kind))
    .filter((o) => selects(selector, podTemplateOf(o).metadata.labels))
    .map((o) => `${o.kind}/${o.metadata.name}`);
}

/** The selectors of the operator's pods: each must select its Deployment only. */
function operatorPodSelectors(objects: readonly Rendered[]): [string, LabelSelector | Labels | undefined][] {
  const deployment = find(objects, 'Deployment', RELEASE);
  const antiAffinity =
    podTemplateOf(deployment).spec.affinity?.podAntiAffinity
      ?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  expect(antiAffinity).not.toHaveLength(0);
  return [
    ['PodDisruptionBudget', find(objects, 'PodDisruptionBudget', RELEASE).spec?.selector as LabelSelector],
    ['NetworkPolicy', find(objects, 'NetworkPolicy', RELEASE).spec?.podSelector as LabelSelector],
    ['metrics Service', find(objects, 'Service', `${RELEASE}-metrics`).spec?.selector as Labels],
    ...antiAffinity.map((term, i): [string, LabelSelector] => [
      `pod anti-affinity term ${i}`,
      term.podAffinityTerm.labelSelector,
    ]),
  ];
}

describe('node-operator chart selectors', () => {
  const operator = `Deployment/${RELEASE}`;
  const agent = `DaemonSet/${RELEASE}-agent`;

  it('select the operator pods and not the agent pods, and the agent pods and not the operator pods', async () => {
    const objects = await render('node-operator');
    const operatorLabels = podTemplateOf(find(objects, 'Deployment', RELEASE)).metadata.labels;
    const agentLabels = podTemplateOf(find(objects, 'DaemonSet', `${RELEASE}-agent`)).metadata.labels;
    expect(operatorLabels['app.kubernetes.io/component']).toBe('operator');
    expect(agentLabels['app.kubernetes.io/component']).toBe('node-agent');

    for (const [what, selector] of operatorPodSelectors(objects))
      expect(selectedWorkloads(objects, selector), what).toEqual([operator]);
    const agentService = find(objects, 'Service', `${RELEASE}-agent-metrics`);
    expect(
      selectedWorkloads(objects, agentService.spec?.selector as Labels),
      'agent metrics Service',
    ).toEqual([agent]);
    const daemonSet = find(objects, 'DaemonSet', `${RELEASE}-agent`);
    expect(
      selectedWorkloads(objects, daemonSet.spec?.selector as LabelSelector),
      'DaemonSet selector',
    ).toEqual([agent]);
  });

  it('keeps the Deployment selector of earlier releases (immutable), whose pods the operator template still carries', async () => {
    const objects = await render('node-operator');
    const deployment = find(objects, 'Deployment', RELEASE);
    const selector = deployment.spec?.selector as LabelSelector;
    expect(selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'node-operator',
      'app.kubernetes.io/instance': RELEASE,
    });
    expect(selects(selector, podTemplateOf(deployment).metadata.labels)).toBe(true);
  });

  it('each ServiceMonitor scrapes its own metrics Service only', async () => {
    const objects = await render('node-operator');
    const services = objects.filter((o) => o.kind === 'Service');
    const selected = (monitor: string) =>
      services
        .filter((s) =>
          selects(
            find(objects, 'ServiceMonitor', monitor).spec?.selector as LabelSelector,
            s.metadata.labels ?? {},
          ),
        )
        .map((s) => s.metadata.name);
    expect(selected(RELEASE)).toEqual([`${RELEASE}-metrics`]);
    expect(selected(`${RELEASE}-agent`)).toEqual([`${RELEASE}-agent-metrics`]);
  });
});

describe('kube-on-kube-operator chart selectors', () => {
  it('select the operator pods, its only workload (its Clusters are labelled by the operator, not the chart)', async () => {
    const objects = await render('kube-on-kube-operator');
    expect(objects.filter((o) => WORKLOADS.has(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `Deployment/${RELEASE}`,
    ]);
    for (const [what, selector] of operatorPodSelectors(objects))
      expect(selectedWorkloads(objects, selector), what).toEqual([`Deployment/${RELEASE}`]);
    const services = objects.filter((o) => o.kind === 'Service').map((s) => s.metadata.name);
    const monitor = find(objects, 'ServiceMonitor', RELEASE).spec?.selector as LabelSelector;
    expect(
      services.filter((name) => selects(monitor, find(objects, 'Service', name).metadata.labels ?? {})),
    ).toEqual([`${RELEASE}-metrics`]);
  });
});

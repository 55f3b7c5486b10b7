/**
 * The guardrails the node API bundle installs are the node-operator chart's:
 * what `helm template` (the real helm) renders with the chart's defaults, but
 * for the labels helm adds and for what a refusal tells a person to do.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sharedBinDir } from '@kok/testing/vitest';
import type {} from '@kok/testing/global-setup';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { nodeApiBundle } from './node-api-bundle.ts';
import {
  BIZ_CLUSTER_HOW_TO_CHANGE,
  CHART_HOW_TO_CHANGE,
  chartGuardrailPolicies,
  chartUserRoles,
  nodeGuardrailObjects,
} from './node-guardrails.ts';
import type { ChartObject } from './node-guardrails.ts';

const chart = join(dirname(fileURLToPath(import.meta.url)), '../../../../charts/node-operator');
const helmHome = mkdtempSync(join(tmpdir(), 'kok-helm-'));

afterAll(() => rmSync(helmHome, { recursive: true, force: true }));

/** One template of the chart as `helm template kok-node` renders it, without the labels helm and the chart add to every object. */
async function rendered(template: string): Promise<ChartObject[]> {
  const { stdout } = await promisify(execFile)(
    join(sharedBinDir(), 'helm'),
    ['template', 'kok-node', chart, '--show-only', `templates/${template}`],
    {
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    },
  );
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as ChartObject | null)
    .filter((object): object is ChartObject => object !== null)
    .map((object) => {
      const labels = Object.entries(object.metadata?.labels ?? {}).filter(
        ([key]) => !key.startsWith('app.kubernetes.io/') && !key.startsWith('helm.sh/'),
      );
      return {
        ...object,
        metadata: {
          name: object.metadata?.name,
          ...(labels.length > 0 ? { labels: Object.fromEntries(labels) } : {}),
        },
      };
    });
}

describe("the node-operator chart's guardrails in the node API bundle", () => {
  it('are the admission policies and user roles the chart renders with its defaults', async () => {
    expect(chartGuardrailPolicies).toEqual(await rendered('validating-admission-policies.yaml'));
    expect(chartUserRoles).toEqual(await rendered('aggregated-roles.yaml'));
  });

  it('tell a person in a biz-cluster whom to ask, not to change chart values nobody there can set', () => {
    const text = JSON.stringify(nodeGuardrailObjects);
    expect(text).not.toContain(CHART_HOW_TO_CHANGE);
    expect(text.split(BIZ_CLUSTER_HOW_TO_CHANGE).length - 1).toBe(
      JSON.stringify(chartGuardrailPolicies).split(CHART_HOW_TO_CHANGE).length - 1,
    );
    expect(nodeApiBundle().objects).toEqual(expect.arrayContaining([...nodeGuardrailObjects]));
  });
});

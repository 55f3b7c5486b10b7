import { describe, expect, it } from 'vitest';
import type { Exclusion, GinkgoSpecReport } from './conformance-report.ts';
import { skipPattern, summarize } from './conformance-report.ts';

const spec = (name: string, state: string, extra: Partial<GinkgoSpecReport> = {}): GinkgoSpecReport => ({
  ContainerHierarchyTexts: [name.split(' ')[0] ?? ''],
  LeafNodeText: name.split(' ').slice(1).join(' '),
  LeafNodeType: 'It',
  State: state,
  RunTime: 2e9,
  ...extra,
});

const exclusions: Exclusion[] = [
  { pattern: /\[Serial\]/, reason: 'serial specs: a separate run' },
  { pattern: /sample-apiserver/, reason: 'its image is not built here' },
];

describe('summarize', () => {
  it('counts each [Conformance] spec once: passed, failed, excluded with its reason, or not run', () => {
    const summary = summarize(
      [
        {
          SpecReports: [
            spec('[sig-node] Pods should run [Conformance]', 'passed'),
            spec('[sig-node] Pods should fail [Conformance]', 'failed', {
              Failure: { Message: 'timed out waiting for the pod\nmore detail' },
            }),
            spec('[sig-apps] taints evict [Serial] [Conformance]', 'skipped'),
            spec('[sig-api-machinery] Aggregator sample-apiserver [Conformance]', 'skipped'),
            spec('[sig-network] Services never reached [Conformance]', 'skipped'),
            spec('[sig-network] Services timed out [Conformance]', 'timedout'),
            // Not conformance, or not a spec: not counted.
            spec('[sig-node] Pods something else', 'passed'),
            {
              ...spec('[sig-node] suite setup [Conformance]', 'passed'),
              LeafNodeType: 'SynchronizedBeforeSuite',
            },
          ],
        },
      ],
      exclusions,
    );
    expect(summary).toMatchObject({ total: 6, passed: 1, failed: 2, excluded: 2, notRun: 1, specSeconds: 6 });
    expect(summary.failures).toEqual([
      { name: '[sig-node] Pods should fail [Conformance]', message: 'timed out waiting for the pod' },
      { name: '[sig-network] Services timed out [Conformance]', message: 'timedout' },
    ]);
    expect(summary.exclusions).toEqual([
      { reason: 'serial specs: a separate run', specs: 1 },
      { reason: 'its image is not built here', specs: 1 },
    ]);
  });

  it('gives ginkgo one skip pattern for every exclusion', () => {
    expect(skipPattern(exclusions)).toBe('\\[Serial\\]|sample-apiserver');
    expect(new RegExp(skipPattern(exclusions)).test('x [Serial] y')).toBe(true);
  });
});

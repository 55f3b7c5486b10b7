/**
 * What a conformance run came to, from the suite's own report (ginkgo's JSON
 * report of e2e.test): every [Conformance] spec as passed, failed, excluded
 * (skipped by the run's exclusion list, with the reason) or not run (the run's
 * time ran out first). Pure.
 */

/** The part of ginkgo's JSON report read here. */
export interface GinkgoSpecReport {
  readonly ContainerHierarchyTexts?: readonly string[] | null;
  readonly LeafNodeText?: string;
  readonly LeafNodeType?: string;
  readonly State?: string;
  /** Nanoseconds. */
  readonly RunTime?: number;
  readonly Failure?: { readonly Message?: string } | null;
}

export interface GinkgoSuiteReport {
  readonly SpecReports?: readonly GinkgoSpecReport[] | null;
}

/** A group of specs left out, and why. */
export interface Exclusion {
  readonly pattern: RegExp;
  readonly reason: string;
}

export interface ConformanceSummary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly excluded: number;
  readonly notRun: number;
  readonly failures: readonly { readonly name: string; readonly message: string }[];
  readonly exclusions: readonly { readonly reason: string; readonly specs: number }[];
  /** Seconds the specs that ran took together. */
  readonly specSeconds: number;
}

const FAILED = new Set(['failed', 'panicked', 'timedout', 'aborted']);

export function specName(spec: GinkgoSpecReport): string {
  return [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText ?? ''].join(' ').trim();
}

/** The ginkgo --skip pattern of the exclusions. */
export function skipPattern(exclusions: readonly Exclusion[]): string {
  return exclusions.map((exclusion) => exclusion.pattern.source).join('|');
}

export function summarize(
  reports: readonly GinkgoSuiteReport[],
  exclusions: readonly Exclusion[],
): ConformanceSummary {
  const specs = reports
    .flatMap((report) => report.SpecReports ?? [])
    .filter((spec) => spec.LeafNodeType === 'It' && specName(spec).includes('[Conformance]'));
  const excludedBy = (spec: GinkgoSpecReport) =>
    exclusions.find((exclusion) => exclusion.pattern.test(specName(spec)));
  const ran = specs.filter((spec) => spec.State === 'passed' || FAILED.has(spec.State ?? ''));
  const failed = specs.filter((spec) => FAILED.has(spec.State ?? ''));
  const skipped = specs.filter((spec) => !ran.includes(spec));
  const excluded = skipped.filter((spec) => excludedBy(spec) !== undefined);
  return {
    total: specs.length,
    passed: ran.length - failed.length,
    failed: failed.length,
    excluded: excluded.length,
    notRun: skipped.length - excluded.length,
    failures: failed.map((spec) => ({
      name: specName(spec),
      message: (spec.Failure?.Message ?? spec.State ?? '').split('\n')[0]?.slice(0, 300) ?? '',
    })),
    exclusions: exclusions
      .map((exclusion) => ({
        reason: exclusion.reason,
        specs: excluded.filter((spec) => excludedBy(spec) === exclusion).length,
      }))
      .filter((entry) => entry.specs > 0),
    specSeconds: Math.round(ran.reduce((sum, spec) => sum + (spec.RunTime ?? 0), 0) / 1e9),
  };
}

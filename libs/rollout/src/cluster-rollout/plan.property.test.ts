import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterState, ClusterWaveSpec, RolloutInput, RolloutPlan } from './plan.ts';
import { clusterPhase, planClusterRollout } from './plan.ts';

const OLD = 'v1.36.3';
const NEW = 'v1.36.4';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;

const ascending = (min: number, max: number) =>
  fc
    .uniqueArray(fc.integer({ min, max }), { maxLength: 4 })
    .map((values) => [...values].sort((a, b) => a - b));

const wavesArb: fc.Arbitrary<ClusterWaveSpec[]> = fc
  .record({
    sizes: fc.oneof(
      ascending(1, 25).map((v) => v.map((count) => ({ count }))),
      ascending(1, 100).map((v) => v.map((percent) => ({ percent }))),
    ),
    zoneFirst: fc.boolean(),
    pauseAfter: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    bake: fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 5, maxLength: 5 }),
  })
  .map(({ sizes, zoneFirst, pauseAfter, bake }) =>
    [...(zoneFirst ? [{ selector: { matchLabels: { zone: 'a' } } }] : []), ...sizes].map((w, i) => ({
      ...w,
      name: `w${i}`,
      pauseAfter: pauseAfter[i] ?? false,
      bakeSeconds: bake[i] ?? 0,
    })),
  );

const clusterArb = (name: string, waveNames: readonly string[]): fc.Arbitrary<ClusterState> =>
  fc
    .record({
      zone: fc.constantFrom('a', 'b'),
      atTarget: fc.boolean(),
      paused: fc.boolean(),
      availableFor: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      failure: fc.option(fc.constantFrom('rolled back', 'apiServer did not become Available'), {
        nil: undefined,
      }),
      record: fc.option(
        fc.record({
          wave: fc.constantFrom(...waveNames, '(remaining)', 'gone'),
          failed: fc.boolean(),
          version: fc.constantFrom(NEW, OLD),
        }),
        { nil: undefined },
      ),
    })
    .map(({ zone, atTarget, paused, availableFor, failure, record }) => ({
      name,
      labels: { zone },
      version: atTarget ? NEW : OLD,
      ...(paused ? { paused } : {}),
      ...(availableFor === undefined ? {} : { availableSince: T0 - availableFor * S }),
      ...(failure === undefined ? {} : { failure }),
      ...(record
        ? {
            record: {
              wave: record.wave,
              version: record.version,
              startedAt: T0 - 900 * S,
              ...(record.failed ? { failedAt: T0 - 300 * S, failure: 'recorded' } : {}),
            },
          }
        : {}),
    }));

const inputArb: fc.Arbitrary<RolloutInput> = fc
  .record({ n: fc.integer({ min: 0, max: 16 }), waves: wavesArb })
  .chain(({ n, waves }) =>
    fc.record({
      version: fc.constant(NEW),
      waves: fc.constant(waves),
      bakeSeconds: fc.integer({ min: 0, max: 300 }),
      maxFailed: fc.integer({ min: 0, max: 3 }),
      paused: fc.boolean(),
      resumedAfterWave: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      clusters: fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          clusterArb(
            `c${String(i).padStart(2, '0')}`,
            waves.map((w) => w.name),
          ),
        ),
      ),
      now: fc.integer({ min: T0, max: T0 + 600 * S }),
    }),
  )
  .map((input) => ({ ...input, clusters: [...input.clusters] }));

const memberships = (plan: RolloutPlan) =>
  new Map(plan.waves.flatMap((w) => w.members.map((name) => [name, w.index] as const)));

/** A wave before the current one is finished, baked and released. */
function isPassed(plan: RolloutPlan, input: RolloutInput, index: number): boolean {
  const w = plan.waves[index];
  const spec = input.waves[index];
  if (!w) return false;
  if (w.pending > 0 || w.upgrading > 0) return false;
  if (w.finishedAt !== undefined && input.now < w.finishedAt + (spec?.bakeSeconds ?? 0) * 1000) return false;
  const isLast = index === plan.waves.length - 1;
  return !(spec?.pauseAfter && !isLast && (input.resumedAfterWave ?? -1) < index);
}

describe('ClusterRollout planner (properties)', () => {
  it('puts every selected cluster in exactly one wave, with consistent counts', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planClusterRollout(input);
        const all = plan.waves.flatMap((w) => w.members);
        expect([...all].sort()).toEqual(input.clusters.map((c) => c.name).sort());
        const { counts } = plan;
        expect(counts.clusters).toBe(input.clusters.length);
        expect(counts.updated + counts.upgrading + counts.failed + counts.pending).toBe(counts.clusters);
        for (const w of plan.waves) {
          expect(w.updated + w.upgrading + w.failed + w.pending).toBe(w.clusters);
          expect(w.members).toEqual([...w.members].sort());
        }
        expect(plan.waves.length).toBeLessThanOrEqual(input.waves.length + 1);
      }),
    );
  });

  it('starts only pending clusters of the current wave, after every earlier wave finished and baked', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planClusterRollout(input);
        if (plan.start.length === 0) return;
        const current = plan.currentWave ?? -1;
        const wave = plan.waves[current];
        const byName = new Map(input.clusters.map((c) => [c.name, c]));
        for (const { cluster, wave: name } of plan.start) {
          expect(wave?.members).toContain(cluster);
          expect(name).toBe(wave?.name);
          expect(clusterPhase(byName.get(cluster) as ClusterState, input)).toBe('Pending');
        }
        for (let i = 0; i < current; i++) expect(isPassed(plan, input, i)).toBe(true);
      }),
    );
  });

  it('starts nothing while paused, no paused Cluster ever, nothing once more than maxFailed clusters failed, and names the failures', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planClusterRollout(input);
        if (input.paused) expect(plan.start).toEqual([]);
        const pausedClusters = new Set(input.clusters.filter((c) => c.paused).map((c) => c.name));
        expect(plan.start.filter((s) => pausedClusters.has(s.cluster))).toEqual([]);
        const failed = input.clusters.filter((c) => clusterPhase(c, input) === 'Failed').map((c) => c.name);
        expect(plan.counts.failed).toBe(failed.length);
        if (failed.length > input.maxFailed) {
          expect(plan.start).toEqual([]);
          expect(plan.phase).toBe('Failed');
          expect(plan.message).toContain([...failed].sort()[0]);
        } else expect(plan.phase).not.toBe('Failed');
      }),
    );
  });

  it('plans the same whatever order the clusters are listed in', () => {
    fc.assert(
      fc.property(
        inputArb.chain((input) =>
          fc.tuple(
            fc.constant(input),
            fc.shuffledSubarray([...input.clusters], { minLength: input.clusters.length }),
          ),
        ),
        ([input, shuffled]) => {
          expect(planClusterRollout({ ...input, clusters: shuffled })).toEqual(planClusterRollout(input));
        },
      ),
    );
  });

  it('keeps wave membership when replanned after the starts, and started clusters when the fleet grows', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 5 }), (input, joining) => {
        const plan = planClusterRollout(input);
        const started = new Map(plan.start.map((s) => [s.cluster, s.wave]));
        const after = input.clusters.map((c) => {
          const wave = started.get(c.name);
          return wave ? { ...c, version: NEW, record: { wave, version: NEW, startedAt: input.now } } : c;
        });
        const replanned = planClusterRollout({ ...input, clusters: after });
        expect(memberships(replanned)).toEqual(memberships(plan));
        const grown = [
          ...after,
          ...Array.from({ length: joining }, (_, i) => ({ name: `a${i}`, labels: {}, version: OLD })),
        ];
        const waveOf = memberships(planClusterRollout({ ...input, clusters: grown }));
        const indexOf = new Map(replanned.waves.map((w) => [w.name, w.index]));
        for (const c of after)
          if (c.record && indexOf.has(c.record.wave))
            expect(waveOf.get(c.name)).toBe(memberships(replanned).get(c.name));
      }),
    );
  });

  it('run to the end: all clusters reach the version, or it stops with later waves untouched', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 12 }),
          waves: wavesArb.map((waves) => waves.map((w) => ({ ...w, pauseAfter: false }))),
          failing: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }),
          maxFailed: fc.integer({ min: 0, max: 2 }),
          bakeSeconds: fc.integer({ min: 0, max: 60 }),
        }),
        ({ n, waves, failing, maxFailed, bakeSeconds }) => {
          const fails = new Set(failing.filter((i) => i < n).map((i) => `c${String(i).padStart(2, '0')}`));
          let clusters: ClusterState[] = Array.from({ length: n }, (_, i) => ({
            name: `c${String(i).padStart(2, '0')}`,
            labels: { zone: i % 3 === 0 ? 'a' : 'b' },
            version: OLD,
          }));
          let now = T0;
          let plan: RolloutPlan | undefined;
          const startedInWave = new Map<string, number>();
          for (let step = 0; step < 200; step++) {
            const input = { version: NEW, waves, bakeSeconds, maxFailed, paused: false, clusters, now };
            plan = planClusterRollout(input);
            if (plan.phase === 'Succeeded' || plan.phase === 'Failed') break;
            for (const s of plan.start) startedInWave.set(s.cluster, plan.currentWave ?? -1);
            const starting = new Map(plan.start.map((s) => [s.cluster, s.wave]));
            // A started cluster is upgraded (or fails) by the next look; failures are recorded.
            clusters = clusters.map((c) => {
              const wave = starting.get(c.name);
              if (wave) return { ...c, version: NEW, record: { wave, version: NEW, startedAt: now } };
              if (c.version === NEW && c.availableSince === undefined && c.failure === undefined)
                return fails.has(c.name) ? { ...c, failure: 'rolled back' } : { ...c, availableSince: now };
              const failure = plan?.newFailures.find((f) => f.cluster === c.name);
              return failure && c.record
                ? { ...c, record: { ...c.record, failedAt: now, failure: failure.message } }
                : c;
            });
            now =
              plan.wakeAt !== undefined && plan.start.length === 0 ? Math.max(plan.wakeAt, now + S) : now + S;
          }
          expect(plan?.phase).toMatch(/^(Succeeded|Failed)$/);
          const failedCount = clusters.filter((c) => c.failure !== undefined).length;
          if (plan?.phase === 'Succeeded') {
            expect(failedCount).toBeLessThanOrEqual(maxFailed);
            expect(plan.counts.updated + plan.counts.failed).toBe(n);
          } else {
            expect(failedCount).toBeGreaterThan(maxFailed);
            // Nothing beyond the wave where the budget ran out was touched.
            const stoppedAt = plan?.currentWave ?? Infinity;
            for (const [cluster, wave] of startedInWave) {
              expect(wave).toBeLessThanOrEqual(stoppedAt);
              expect(clusters.find((c) => c.name === cluster)?.version).toBe(NEW);
            }
            for (const w of plan?.waves ?? []) if (w.index > stoppedAt) expect(w.pending).toBe(w.clusters);
          }
        },
      ),
    );
  });
});

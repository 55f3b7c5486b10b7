import { revisionName, templateRevision } from '@kok/api';
import type { NodePoolTemplate } from '@kok/api';
import { applyMergePatch } from '@kok/reconcile';
import { describe, expect, it } from 'vitest';
import { CommandError } from './cli-errors.ts';
import { planRollback } from './rollback.ts';
import type { StoredRevision } from './rollback.ts';
import { pool } from './test-support/objects.ts';

const good: NodePoolTemplate = {
  components: [{ name: 'kubelet', version: 'v1.35.4' }],
  files: [{ path: '/etc/a', content: 'a' }],
};
const bad: NodePoolTemplate = {
  components: [{ name: 'kubelet', version: 'v1.36.3' }],
  labels: { new: 'label' },
};
const GOOD = templateRevision(good);

function stored(template: unknown, revision = GOOD): StoredRevision {
  return { name: revisionName('workers', revision), namespace: 'kok-system', template };
}

function failing(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    return (error as Error).message;
  }
  throw new Error('expected a CommandError');
}

describe('planRollback', () => {
  const badPool = pool('workers', { template: bad, paused: true }, { currentRevision: GOOD });

  it('writes the last good template back, guarded by the resourceVersion, so the template hashes to it again', () => {
    const plan = planRollback(badPool, [stored(good)]);
    expect(plan.kind).toBe('patch');
    if (plan.kind !== 'patch') return;
    expect(plan).toMatchObject({ fromRevision: templateRevision(bad), toRevision: GOOD });
    expect(plan.patch.metadata).toEqual({ resourceVersion: '42' });
    const after = applyMergePatch(badPool, plan.patch) as typeof badPool;
    expect(after.spec.template).toEqual(good);
    expect(templateRevision(after.spec.template)).toBe(GOOD);
    expect(after.spec.paused).toBe(true);
  });

  it('clears spec.paused in the same write with --resume', () => {
    const plan = planRollback(badPool, [stored(good)], { resume: true });
    expect(
      plan.kind === 'patch' && (applyMergePatch(badPool, plan.patch) as typeof badPool).spec.paused,
    ).toBe(false);
  });

  it('goes to another stored revision with --to-revision', () => {
    const older: NodePoolTemplate = { components: [{ name: 'kubelet', version: 'v1.34.0' }] };
    const plan = planRollback(badPool, [stored(good), stored(older, templateRevision(older))], {
      toRevision: templateRevision(older),
    });
    expect(plan.kind === 'patch' && plan.toRevision).toBe(templateRevision(older));
  });

  it('does nothing when the template already is that revision', () => {
    const healthy = pool('workers', { template: good }, { currentRevision: GOOD });
    expect(planRollback(healthy, [])).toEqual({ kind: 'nothing-to-do', revision: GOOD });
  });

  it.each([
    [
      'no rollout has completed',
      () => planRollback(pool('workers', { template: bad }), [stored(good)]),
      'NodePool "workers" has no last good revision (status.currentRevision is empty)',
    ],
    [
      'the template is not stored',
      () => planRollback(badPool, []),
      `no stored template for revision ${GOOD} of NodePool "workers"`,
    ],
    [
      'the stored template is another revision',
      () => planRollback(badPool, [stored(bad)]),
      `does not hold the template of revision ${GOOD}`,
    ],
    [
      'the stored data is not a template',
      () => planRollback(badPool, [stored('text')]),
      'does not hold the template',
    ],
  ])('refuses when %s', (_, run, message) => {
    expect(failing(run)).toContain(message);
  });
});

import { ForbiddenError, InvalidError, NotFoundError } from '@kok/reconcile';
import { describe, expect, it } from 'vitest';
import { explainApiError } from './api-error-messages.ts';
import { CommandError } from './cli-errors.ts';

const pool = { kind: 'NodePool', apiVersion: 'nodes.kok.dev/v1alpha1', plural: 'nodepools', name: 'workers' };
const cluster = {
  kind: 'Cluster',
  apiVersion: 'clusters.kok.dev/v1alpha1',
  plural: 'clusters',
  name: 'c1',
  namespace: 'fleet',
};
const server = 'https://127.0.0.1:6443';

describe('explainApiError', () => {
  it.each([
    [
      'a missing object',
      new NotFoundError(404, { reason: 'NotFound', details: { name: 'workers', kind: 'nodepools' } }, 'GET'),
      pool,
      'NodePool "workers" not found; list them with: kubectl get nodepools',
    ],
    [
      'a missing namespaced object',
      new NotFoundError(404, { reason: 'NotFound', details: { name: 'c1', kind: 'clusters' } }, 'GET'),
      cluster,
      'Cluster "c1" not found in namespace "fleet"; list them with: kubectl get clusters -n fleet',
    ],
    [
      'a missing CRD',
      new NotFoundError(
        404,
        { reason: 'NotFound', message: 'the server could not find the requested resource' },
        'GET',
      ),
      pool,
      `the NodePool API (nodes.kok.dev/v1alpha1) is not served by ${server}: install the kok CRDs`,
    ],
    [
      'RBAC',
      new ForbiddenError(403, { reason: 'Forbidden', message: 'user "bob" cannot patch nodepools' }, 'PATCH'),
      pool,
      'not allowed: user "bob" cannot patch nodepools; check with: kubectl auth can-i --list',
    ],
    [
      'a refused change',
      new InvalidError(
        422,
        { reason: 'Invalid', details: { causes: [{ field: 'spec.paused', message: 'must be a boolean' }] } },
        'PATCH',
      ),
      pool,
      'the apiserver refused the change to NodePool "workers": spec.paused: must be a boolean',
    ],
    [
      'an unreachable apiserver',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      pool,
      `cannot reach the apiserver at ${server} (ECONNREFUSED): is the cluster up?`,
    ],
  ])('%s', (_, error, target, message) => {
    const explained = explainApiError(error, target, server);
    expect(explained).toBeInstanceOf(CommandError);
    expect(explained.message).toContain(message);
  });

  it('passes other errors through untouched', () => {
    const bug = new TypeError('x is undefined');
    expect(explainApiError(bug, pool, server)).toBe(bug);
  });
});

/**
 * Turns what the apiserver (or the network) said into a sentence a person can
 * act on: which object, what went wrong, what to run next.
 */
import { ApiError, ForbiddenError, InvalidError, NotFoundError } from '@kok/reconcile';
import { CommandError } from './cli-errors.ts';

export interface Target {
  /** Kind as people say it, e.g. NodePool. */
  kind: string;
  /** `nodes.kok.dev/v1alpha1`, to say which CRD is missing. */
  apiVersion: string;
  /** Plural for kubectl commands, e.g. nodepools. */
  plural: string;
  name?: string;
  /** For namespaced kinds. */
  namespace?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/** A CommandError for `error`, raised while working on `target` against `server`. */
export function explainApiError(error: unknown, target: Target, server: string): Error {
  if (error instanceof CommandError) return error;
  const where = target.namespace ? ` in namespace "${target.namespace}"` : '';
  const nsFlag = target.namespace ? ` -n ${target.namespace}` : '';
  if (error instanceof NotFoundError) {
    // A missing object names its kind in details; a missing CRD does not.
    if (target.name !== undefined && error.status.details?.name === target.name)
      return new CommandError(
        `${target.kind} "${target.name}" not found${where}; list them with: kubectl get ${target.plural}${nsFlag}`,
      );
    return new CommandError(
      `the ${target.kind} API (${target.apiVersion}) is not served by ${server}: ` +
        'install the kok CRDs (kubectl apply -f crds/) or pick the right cluster with --context',
    );
  }
  if (error instanceof ForbiddenError)
    return new CommandError(
      `not allowed: ${error.status.message ?? error.message}; check with: kubectl auth can-i --list${nsFlag}`,
    );
  if (error instanceof InvalidError) {
    const causes = (error.status.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
    return new CommandError(
      `the apiserver refused the change to ${target.kind} "${target.name ?? ''}": ` +
        (causes.length > 0 ? causes.join('; ') : (error.status.message ?? error.message)),
    );
  }
  if (error instanceof ApiError)
    return new CommandError(`${target.kind} "${target.name ?? ''}": ${error.message}`);
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'))
  )
    return new CommandError(
      `cannot reach the apiserver at ${server} (${code}): is the cluster up? ` +
        'check --kubeconfig and --context (kubectl config current-context)',
    );
  if (error instanceof Error && error.name === 'TimeoutError')
    return new CommandError(
      `the apiserver at ${server} did not answer in time; try again or check the cluster`,
    );
  return error instanceof Error ? error : new Error(String(error));
}

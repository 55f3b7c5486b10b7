// The public surface: what operators, the node agent, tools and tests use. Queues, rate limiters,
// leader election and metrics are the Manager's machinery and stay inside, but for a Controller run
// without a Manager and the per-item backoff it is paced with (the node agent's one-key pass loop).

// Time
export type { Clock, TimerHandle } from './clock.ts';
export { FakeClock, realClock } from './clock.ts';

// Resources, client and errors
export type { ResourceType } from './resource-type.ts';
export { nameOf, objectKey, resourcePath, resourceType } from './resource-type.ts';
export { builtinTypes } from './builtin-types.ts';
export type { JsonPatchOperation, KubeConnection } from './kube-client.ts';
export { KubeClient, PatchType } from './kube-client.ts';
export { KubeconfigFile } from './kubeconfig-file.ts';
export type { Reader } from './reader.ts';
export { apiReader } from './reader.ts';
export {
  ApiError,
  ForbiddenError,
  InvalidError,
  isAlreadyExists,
  isConflict,
  isNotFound,
  NotFoundError,
  TooManyRequestsError,
} from './api-errors.ts';
export { createOrApplyGuarded } from './guarded-write.ts';
export { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.ts';
export { controllerOf, controllerReference, withControllerReference } from './owner-references.ts';
export { applyMergePatch, mergePatchBetween } from './merge-patch.ts';
export { canonicalJson } from './canonical-json.ts';
export { EventRecorder } from './event-recorder.ts';

// Informers
export { Informer } from './informer.ts';
export type { IndexFunc } from './store.ts';
export { Indexes } from './store.ts';

// Controllers and the manager
export type { ReconcileContext, Reconciler, Request, Result } from './controller.ts';
export { Controller, TerminalError } from './controller.ts';
export type { RateLimiter } from './rate-limiters.ts';
export { itemExponentialFailureRateLimiter } from './rate-limiters.ts';
export { requeueAt } from './requeue-at.ts';
export { forEachLimit } from './for-each-limit.ts';
export type { Predicate } from './predicates.ts';
export { generationChanged, resourceVersionChanged } from './predicates.ts';
export { MetricsAccessReview } from './metrics-access.ts';
export { Manager } from './manager.ts';
// The work queue alone, for the benchmark that measures it.
export { WorkQueue } from './work-queue.ts';

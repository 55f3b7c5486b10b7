// Work queue
export type { Clock, TimerHandle } from './clock.ts';
export { FakeClock, realClock } from './clock.ts';
export { MAX_TIMER_DELAY_MS, timerDelay } from './timer-delay.ts';
export type { QueueItem, WorkQueueMetrics, WorkQueueOptions } from './work-queue.ts';
export { WorkQueue } from './work-queue.ts';
export { DelayingQueue } from './delaying-queue.ts';
export type { RateLimitingQueueOptions } from './rate-limiting-queue.ts';
export { RateLimitingQueue } from './rate-limiting-queue.ts';
export type { BucketOptions, ExponentialOptions, RateLimiter } from './rate-limiters.ts';
export {
  bucketRateLimiter,
  defaultControllerRateLimiter,
  fastSlowRateLimiter,
  itemExponentialFailureRateLimiter,
  maxOfRateLimiter,
} from './rate-limiters.ts';

// Resources, client and errors
export type { ResourceType } from './resource-type.ts';
export { objectKey, parseObjectKey, resourcePath, resourceType } from './resource-type.ts';
export { builtinTypes } from './builtin-types.ts';
export type {
  JsonPatchOperation,
  KubeClientOptions,
  KubeConnection,
  ListOptions,
  ObjectRef,
  Query,
} from './kube-client.ts';
export { KubeconfigFile } from './kubeconfig-file.ts';
export { KubeClient, PatchType } from './kube-client.ts';
export type { ApiStatus } from './api-errors.ts';
export {
  ApiError,
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  NotFoundError,
  TooManyRequestsError,
} from './api-errors.ts';
export { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.ts';
export { controllerOf, controllerReference, withControllerReference } from './owner-references.ts';
export type { OperationResult } from './create-or-patch.ts';
export { createOrPatch } from './create-or-patch.ts';
export { applyMergePatch, mergePatchBetween } from './merge-patch.ts';
export type { EventRecorderOptions, EventType } from './event-recorder.ts';
export { EventRecorder } from './event-recorder.ts';

// Informers
export type { EventHandler, InformerOptions, InformerStats } from './informer.ts';
export { Informer } from './informer.ts';
export type { IndexFunc } from './store.ts';
export { Indexes } from './store.ts';
export type { Transform } from './object-transform.ts';
export { trimForCache } from './object-transform.ts';
export type { BackoffOptions } from './backoff.ts';

// Controllers, leader election, manager
export type { ControllerOptions, ReconcileContext, Reconciler, Request, Result } from './controller.ts';
export { Controller, TerminalError } from './controller.ts';
export type { Predicate } from './predicates.ts';
export {
  and,
  annotationsChanged,
  generationChanged,
  labelsChanged,
  not,
  or,
  resourceVersionChanged,
} from './predicates.ts';
export { FrameworkMetrics } from './metrics.ts';
export type { MetricsAccess, MetricsAccessReviewOptions } from './metrics-access.ts';
export { bearerToken, METRICS_PATH, MetricsAccessReview } from './metrics-access.ts';
export type { LeaderElectionOptions } from './leader-election.ts';
export { LeaderElector } from './leader-election.ts';
export type { ManagerOptions } from './manager.ts';
export { Manager } from './manager.ts';

import type { KubernetesObject } from '@kubernetes/client-node';

/** Filters events before they are enqueued. A missing method lets the event through. */
export interface Predicate<T extends KubernetesObject = KubernetesObject> {
  create?(obj: T): boolean;
  update?(oldObj: T, newObj: T): boolean;
  delete?(obj: T): boolean;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});

/** Updates pass only when metadata.generation changed (spec edits, not status writes). */
export const generationChanged: Predicate = {
  update: (o, n) => o.metadata?.generation !== n.metadata?.generation,
};

export const labelsChanged: Predicate = {
  update: (o, n) => !sameJson(o.metadata?.labels, n.metadata?.labels),
};

export const annotationsChanged: Predicate = {
  update: (o, n) => !sameJson(o.metadata?.annotations, n.metadata?.annotations),
};

/** Drops updates that carry no change at all (the same resourceVersion twice). */
export const resourceVersionChanged: Predicate = {
  update: (o, n) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion,
};

type Event<T> =
  { kind: 'create'; obj: T } | { kind: 'update'; oldObj: T; obj: T } | { kind: 'delete'; obj: T };

/** Does the event pass `p`? */
export function passes<T extends KubernetesObject>(p: Predicate<T>, e: Event<T>): boolean {
  if (e.kind === 'create') return p.create?.(e.obj) ?? true;
  if (e.kind === 'update') return p.update?.(e.oldObj, e.obj) ?? true;
  return p.delete?.(e.obj) ?? true;
}

export function and<T extends KubernetesObject>(...ps: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => ps.every((p) => passes(p, { kind: 'create', obj })),
    update: (oldObj, obj) => ps.every((p) => passes(p, { kind: 'update', oldObj, obj })),
    delete: (obj) => ps.every((p) => passes(p, { kind: 'delete', obj })),
  };
}

export function or<T extends KubernetesObject>(...ps: Predicate<T>[]): Predicate<T> {
  return {
    create: (obj) => ps.some((p) => passes(p, { kind: 'create', obj })),
    update: (oldObj, obj) => ps.some((p) => passes(p, { kind: 'update', oldObj, obj })),
    delete: (obj) => ps.some((p) => passes(p, { kind: 'delete', obj })),
  };
}

export function not<T extends KubernetesObject>(p: Predicate<T>): Predicate<T> {
  return {
    create: (obj) => !passes(p, { kind: 'create', obj }),
    update: (oldObj, obj) => !passes(p, { kind: 'update', oldObj, obj }),
    delete: (obj) => !passes(p, { kind: 'delete', obj }),
  };
}

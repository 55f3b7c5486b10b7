/** The names the demo's objects have, and its printed instructions use. */
export const STACK_NAMESPACE = 'demo';
export const STACK_CLUSTER = 'demo';
export const STACK_POOL = 'workers';

/** The kinds the agent reads and writes, from `@kok/api/core` (no schemas loaded at run time). */
export {
  componentType,
  machineType,
  nodePoolType,
  type ComponentObject,
  type MachineObject,
  type NodePoolObject,
} from '@kok/api/core';

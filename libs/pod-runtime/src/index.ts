export type { LocalPodRuntimeOptions } from './local-pod-runtime.ts';
export { canUsePrivateMounts, LocalPodRuntime, startLocalPodRuntime } from './local-pod-runtime.ts';
export { localRuntimeNodeLabel } from './local-node.ts';
export type { ExtraImages } from './image-binary.ts';
export { binaryForImage } from './image-binary.ts';
export type { MetaClusterStageOptions } from './meta-cluster-stage.ts';
export { stageMetaCluster } from './meta-cluster-stage.ts';

export type { ControlPlane, ControlPlaneOptions, ControlPlaneProcess } from './control-plane.ts';
export { startControlPlane } from './control-plane.ts';
export type { ExtraArgs } from './components.ts';
export { binaryCacheDir, controlPlaneBinaries, ensureBinaries, pinnedVersions } from './binaries.ts';
export { kwokNodeAnnotation } from './kwok-stages.ts';
export type { KwokOptions, KwokProcess } from './kwok-process.ts';
export { startKwok } from './kwok-process.ts';
export { uniqueName } from './unique-name.ts';
export { eventually } from './eventually.ts';

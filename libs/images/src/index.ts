export {
  APP_ROOT,
  CONTROL_PLANE_BINARIES,
  imageOptions,
  KOK_APPS,
  KOK_IMAGE_NAMES,
  KOK_REGISTRY,
  kokRelease,
  packKokImage,
  splitReference,
  type ControlPlaneBinary,
  type ImageInputs,
  type KokApp,
  type KokImageName,
  type PackedKokImage,
} from './kok-images.ts';
export { IMAGE_USER, NODE_IN_IMAGE } from './node-runtime.ts';
export { runInContainer, unpackImage, type ContainerRun, type UnpackedImage } from './run-in-runc.ts';

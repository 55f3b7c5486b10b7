export { createTarArchive, maxTarPathBytes, type TarEntry } from './tar-archive.ts';
export {
  ociMediaTypes,
  packOciImage,
  writeOciImage,
  type LayerEntry,
  type OciImage,
  type OciImageConfig,
  type OciImageOptions,
} from './oci-image.ts';
export {
  busyboxPath,
  pauseImage,
  pauseImageReference,
  sleepUntilTerminatedScript,
  workloadApplets,
  workloadImage,
  workloadImageReference,
  writeTestImages,
} from './test-images.ts';

export {
  pinnedImageInputs,
  RealContainerMeta,
  runningContainerImages,
  runningTasks,
  type ChartOptions,
  type ImageToImport,
  type ServiceAdmin,
} from './real-container-meta.ts';

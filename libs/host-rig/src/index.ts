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
  hostArchitecture,
  pauseImage,
  pauseImageReference,
  sleepUntilTerminatedScript,
  workloadApplets,
  workloadImage,
  workloadImageReference,
  writeTestImages,
} from './test-images.ts';
export {
  COREDNS_USER,
  IPTABLES_COMMANDS,
  KUBE_PROXY_PATH,
  machineIptablesBackend,
  machinePathsLayer,
  packCoreDnsImage,
  packKubeProxyImage,
  sharedLibraries,
  type IptablesBackend,
  type KubeProxyImageOptions,
} from './addon-images.ts';
export { ensureHostBinaries, hostVersions, type HostBinaries, type HostVersions } from './host-binaries.ts';
export { realHostSupport, type HostSupport } from './host-support.ts';
export { HostRig, type HostRigOptions } from './host-rig.ts';
export { AGENT_KUBECONFIG, mountsUnder, RealHost, ROOT_IN_HOST, type HostProvisioning } from './real-host.ts';
export { serveArtifacts, type ArtifactServer } from './artifact-server.ts';
export { leftovers, snapshotMachine, type MachineSnapshot } from './machine-snapshot.ts';
export {
  buildNodeSoftware,
  COMPONENT_NAMES,
  CONTAINERD_DATA_PATHS,
  DEFAULT_CLUSTER_DNS,
  DEFAULT_CLUSTER_DOMAIN,
  HOST_PROBLEM_CONDITION,
  KUBELET_DATA_PATHS,
  NODE_PATHS,
  PROBLEM_PATTERN,
  realHostDisruptionPolicy,
  realHostTemplate,
  type NodeSoftware,
  type NodeSoftwareOptions,
  type TemplateOptions,
} from './node-software.ts';
export {
  DEFAULT_POD_CIDR,
  nodeRouteSource,
  POD_MASQUERADE_COMMENT,
  POD_ROUTE_PROTOCOL,
} from './pod-network.ts';
export { addMachineRoutes, machineRoutesIntoRig, removeMachineRoutes } from './machine-routes.ts';
export { RIG_ADDRESS_PREFIX, rigBridge } from './rig-network.ts';
export type { PodRoute } from './pod-network.ts';
export { startHostFleet, type HostFleet, type HostFleetOptions } from './host-fleet.ts';
export {
  startRealHostCluster,
  type RealHostCluster,
  type RealHostClusterOptions,
} from './real-host-cluster.ts';
export { provisionStandInHost, STAND_IN_AGENT_COMMAND, type StandInHost } from './stand-in-agent.ts';
export {
  kubeconfigThroughProxy,
  nodePortBackends,
  podBackends,
  startApiServerProxy,
  type ApiServerProxy,
  type ApiServerReach,
} from './apiserver-proxy.ts';
export {
  createComponents,
  createMachine,
  createNodePool,
  startRealHostPool,
  type RealHostPool,
  type RealHostPoolOptions,
} from './real-host-pool.ts';
export { rigOwns, rigsOwnedBy, type RigRegistration } from './stale-rigs.ts';

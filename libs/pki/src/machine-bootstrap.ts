/**
 * What a provisioner puts on a host so that it joins the biz-cluster as a
 * Machine: the kubelet's bootstrap kubeconfig (a bootstrap token, the
 * apiserver and its CA), the CA on its own, and the node-agent command. Pure:
 * the token and where the apiserver is in, files and a command out.
 */
import { renderKubeconfig } from './kubeconfig.ts';

/** Where the kubelet reads its bootstrap kubeconfig (its --bootstrap-kubeconfig). */
export const BOOTSTRAP_KUBECONFIG_PATH = '/etc/kubernetes/bootstrap-kubelet.conf';
/** The cluster CA, which the kubelet trusts callers of its own API with (its clientCAFile). */
export const CLUSTER_CA_PATH = '/etc/kubernetes/pki/ca.crt';
/**
 * Where the node-agent keeps its own credential: not handed over, the agent
 * asks for it by a CertificateSigningRequest with the bootstrap kubeconfig.
 */
export const AGENT_KUBECONFIG_PATH = '/etc/kok/agent.kubeconfig';

/** Default life of a bootstrap token: enough to boot a host, short enough not to matter if it leaks. */
export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;

/** A file to write on the host. `mode` is the permission bits as a number, as in Machine spec.files. */
export interface BootstrapFile {
  path: string;
  mode: number;
  content: string;
}

/** `kubectl kok machine bootstrap -o json`. */
export interface MachineBootstrap {
  machine: string;
  /** RFC 3339: when the token stops authenticating (the controller-manager's tokencleaner then deletes it). */
  expiresAt: string;
  files: BootstrapFile[];
  /** How to start the agent once the files are in place: it gets its own certificate with the same token. */
  agentCommand: string;
}

export interface MachineBootstrapInputs {
  machine: string;
  /** `<id>.<secret>`. */
  token: string;
  expiresAt: Date;
  /** The apiserver URL hosts dial, and the name of its cluster entry. */
  server: string;
  clusterName: string;
  /** PEM: the CA (or trust bundle) the apiserver's serving certificate chains to. */
  certificateAuthorityPem: string;
}

export function machineBootstrap(inputs: MachineBootstrapInputs): MachineBootstrap {
  const ca = inputs.certificateAuthorityPem.endsWith('\n')
    ? inputs.certificateAuthorityPem
    : `${inputs.certificateAuthorityPem}\n`;
  const kubeconfig = renderKubeconfig({
    clusterName: inputs.clusterName,
    server: inputs.server,
    certificateAuthorityPem: ca,
    userName: 'kubelet-bootstrap',
    credentials: { token: inputs.token },
  });
  return {
    machine: inputs.machine,
    expiresAt: inputs.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    files: [
      // The token is a credential: readable by root alone.
      { path: BOOTSTRAP_KUBECONFIG_PATH, mode: 0o600, content: kubeconfig },
      { path: CLUSTER_CA_PATH, mode: 0o644, content: ca },
    ],
    agentCommand: `node-agent --machine ${inputs.machine} --bootstrap-kubeconfig ${BOOTSTRAP_KUBECONFIG_PATH} --kubeconfig ${AGENT_KUBECONFIG_PATH}`,
  };
}

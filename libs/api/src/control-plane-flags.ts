/**
 * Flags of the control-plane binaries that the kube-on-kube operator sets
 * itself and a Cluster's `extraArgs` may not override: they wire the
 * component to its certificates, etcd, kubeconfig, ports and the address
 * ranges of spec.network, and another value would break the cluster or
 * quietly contradict the spec; or they are the component's security
 * (who is authorized, anonymous requests, which controllers run), where
 * another value would open the cluster to its users. The operator's tests
 * check that it renders every one of them, and its flag rendering keeps its
 * own value for them.
 */
export const OPERATOR_OWNED_FLAGS = {
  apiServer: [
    'advertise-address',
    'secure-port',
    // The Node authorizer and RBAC: another mode (AlwaysAllow) lets every user do anything.
    'authorization-mode',
    // As kubeadm leaves it: anonymous requests get only what RBAC grants system:anonymous (the pods'
    // probes are anonymous, so false takes the apiserver down).
    'anonymous-auth',
    'client-ca-file',
    'tls-cert-file',
    'tls-private-key-file',
    'etcd-servers',
    'etcd-cafile',
    'etcd-certfile',
    'etcd-keyfile',
    'kubelet-client-certificate',
    'kubelet-client-key',
    'proxy-client-cert-file',
    'proxy-client-key-file',
    'requestheader-allowed-names',
    'requestheader-client-ca-file',
    'requestheader-extra-headers-prefix',
    'requestheader-group-headers',
    'requestheader-username-headers',
    'service-account-issuer',
    'service-account-key-file',
    'service-account-signing-key-file',
    'service-cluster-ip-range',
  ],
  controllerManager: [
    'kubeconfig',
    'authentication-kubeconfig',
    'authorization-kubeconfig',
    'bind-address',
    'secure-port',
    'client-ca-file',
    'requestheader-client-ca-file',
    'cluster-name',
    'cluster-signing-cert-file',
    'cluster-signing-key-file',
    'root-ca-file',
    'service-account-private-key-file',
    'service-cluster-ip-range',
    'cluster-cidr',
    // Which controllers run: leaving out e.g. the token cleaner or the CSR signer breaks the node tier.
    'controllers',
  ],
  scheduler: [
    'kubeconfig',
    'authentication-kubeconfig',
    'authorization-kubeconfig',
    'bind-address',
    'secure-port',
  ],
} as const satisfies Record<string, readonly string[]>;

export type ControlPlaneComponentName = keyof typeof OPERATOR_OWNED_FLAGS;

/** A flag name as extraArgs writes it: without the leading --, lower case, digits, '-' and '.'. */
export const FLAG_NAME_PATTERN = String.raw`^[a-z0-9][a-z0-9.-]*$`;

/**
 * The admission plugin every kube-apiserver runs whatever extraArgs say:
 * NodeRestriction keeps a kubelet to its own Node and pods. extraArgs may
 * enable more plugins (the operator adds this one to the list) but may not
 * disable it.
 */
export const REQUIRED_ADMISSION_PLUGIN = 'NodeRestriction';

/**
 * kube-apiserver flags that bound how long its pod takes to stop: the delay it
 * keeps serving after SIGTERM, then the drain of in-flight requests and of
 * watches. extraArgs may set them; the operator reads them to size the pod's
 * terminationGracePeriodSeconds, so the CRD takes only durations for them.
 */
export const APISERVER_SHUTDOWN_DURATION_FLAGS = [
  'shutdown-delay-duration',
  'request-timeout',
  'shutdown-watch-termination-grace-period',
] as const;

/**
 * The --shutdown-delay-duration the operator gives every kube-apiserver unless
 * extraArgs set one: long enough for the meta-cluster's EndpointSlice
 * controller and kube-proxy (which applies rules at most once a second) to
 * drop a terminating pod from its Service before it stops listening.
 */
export const APISERVER_SHUTDOWN_DELAY = '5s';

/** Matches a comma-separated plugin list that names the required plugin (RE2 and JavaScript alike). */
export const NAMES_REQUIRED_ADMISSION_PLUGIN = String.raw`(^|,)\s*${REQUIRED_ADMISSION_PLUGIN}\s*(,|$)`;

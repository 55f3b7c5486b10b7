/**
 * What a cluster issues so that a host with nothing but a short-lived token
 * and the cluster's CA becomes a Node (kubeadm's TLS bootstrap recipe): a
 * bootstrap token Secret, and the RBAC that lets token holders ask for a
 * kubelet client certificate which the controller-manager approves and signs.
 * Plain objects, so any client (or a manifest bundle) can apply them.
 */
import { randomBytes } from 'node:crypto';

export interface BootstrapToken {
  /** `<id>.<secret>`: what a kubelet's bootstrap kubeconfig carries. */
  readonly token: string;
  readonly id: string;
  readonly expiresAt: Date;
  /** The `bootstrap.kubernetes.io/token` Secret to create in kube-system. */
  readonly secret: KubernetesManifest;
}

/** A Kubernetes object as plain data (apiVersion, kind, metadata, …). */
export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function tokenPart(length: number): string {
  return [...randomBytes(length)].map((byte) => TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length]).join('');
}

/**
 * A new bootstrap token valid for `ttlSeconds` (the controller-manager's
 * tokencleaner deletes it after that), usable only to authenticate as
 * `system:bootstrap:<id>` in group `system:bootstrappers`.
 */
export function createBootstrapToken(options: {
  ttlSeconds: number;
  description?: string;
  now?: Date;
}): BootstrapToken {
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 60)
    throw new Error(`a bootstrap token lives at least 60 s, not ${options.ttlSeconds}`);
  const id = tokenPart(6);
  const secret = tokenPart(16);
  const expiresAt = new Date((options.now ?? new Date()).getTime() + options.ttlSeconds * 1000);
  return {
    token: `${id}.${secret}`,
    id,
    expiresAt,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': id,
        'token-secret': secret,
        expiration: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'usage-bootstrap-authentication': 'true',
        ...(options.description ? { description: options.description } : {}),
      },
    },
  };
}

const binding = (name: string, clusterRole: string, group: string): KubernetesManifest => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kok' } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
});

const userBinding = (name: string, clusterRole: string, user: string): KubernetesManifest => ({
  ...binding(name, clusterRole, ''),
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
});

/**
 * The bindings that make TLS bootstrap work (the ClusterRoles are the
 * apiserver's built-in ones): token holders may create node-client CSRs,
 * which are approved automatically; Nodes may renew their own; the
 * apiserver's kubelet client (user `apiServerKubeletClient`) may reach
 * kubelets for logs and exec, and nothing more.
 */
export function nodeBootstrapRbac(apiServerKubeletClient: string): KubernetesManifest[] {
  return [
    binding('kok:kubelet-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers'),
    binding(
      'kok:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      'system:bootstrappers',
    ),
    binding(
      'kok:node-autoapprove-certificate-rotation',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
      'system:nodes',
    ),
    userBinding('kok:apiserver-kubelet-client', 'system:kubelet-api-admin', apiServerKubeletClient),
  ];
}

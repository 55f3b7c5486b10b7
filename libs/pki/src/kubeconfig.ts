import { stringify } from 'yaml';

/** How the kubeconfig's user authenticates: a client certificate (CN = user, O = groups) or a bearer token. */
export type KubeconfigCredentials =
  { readonly clientCertificatePem: string; readonly clientKeyPem: string } | { readonly token: string };

export interface KubeconfigOptions {
  /** Name of the cluster entry, also used for the context. */
  readonly clusterName: string;
  /** https URL of the apiserver. */
  readonly server: string;
  readonly certificateAuthorityPem: string;
  /** Name of the user entry. */
  readonly userName: string;
  readonly credentials: KubeconfigCredentials;
  /** Default namespace of the context. Default: none (kubectl then uses "default"). */
  readonly namespace?: string;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** A self-contained kubeconfig (credentials inlined), as YAML. */
export function renderKubeconfig(options: KubeconfigOptions): string {
  if (!/^https:\/\//.test(options.server))
    throw new Error(`kubeconfig server must be an https URL, got "${options.server}"`);
  const contextName = `${options.userName}@${options.clusterName}`;
  const user =
    'token' in options.credentials
      ? { token: options.credentials.token }
      : {
          'client-certificate-data': base64(options.credentials.clientCertificatePem),
          'client-key-data': base64(options.credentials.clientKeyPem),
        };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.clusterName,
        cluster: {
          server: options.server,
          'certificate-authority-data': base64(options.certificateAuthorityPem),
        },
      },
    ],
    users: [{ name: options.userName, user }],
    contexts: [
      {
        name: contextName,
        context: {
          cluster: options.clusterName,
          user: options.userName,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': contextName,
    preferences: {},
  });
}

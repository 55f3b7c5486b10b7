/**
 * A kubeconfig as KubeClient needs it, read without @kubernetes/client-node
 * (whose generated API models cost a small daemon like the node agent tens of
 * MiB): the current context's server and TLS settings, and a client
 * certificate or bearer token. `reload` swaps the content in place, so every
 * KubeClient made from it dials with a renewed certificate.
 */
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import type { KubeConnection } from './kube-client.ts';

interface ClusterEntry {
  server?: string;
  'certificate-authority-data'?: string;
  'certificate-authority'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface UserEntry {
  'client-certificate-data'?: string;
  'client-certificate'?: string;
  'client-key-data'?: string;
  'client-key'?: string;
  token?: string;
  tokenFile?: string;
}

interface KubeconfigDocument {
  'current-context'?: string;
  clusters?: { name: string; cluster: ClusterEntry }[];
  users?: { name: string; user: UserEntry }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
}

/** The current context, resolved: PEM and tokens read, relative paths taken from the file's directory. */
interface Resolved {
  clusterName: string;
  cluster: ClusterEntry & { server: string };
  userName: string;
  user: UserEntry;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  tokenFile?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeconfigFile implements KubeConnection {
  #resolved: Resolved;
  readonly #baseDir: string;

  private constructor(resolved: Resolved, baseDir: string) {
    this.#resolved = resolved;
    this.#baseDir = baseDir;
  }

  /** `text` as a kubeconfig; relative file paths in it are taken from `baseDir`. */
  static parse(text: string, baseDir = process.cwd()): KubeconfigFile {
    return new KubeconfigFile(resolve(text, baseDir), baseDir);
  }

  static load(path: string): KubeconfigFile {
    return KubeconfigFile.parse(readFileSync(path, 'utf8'), dirname(path));
  }

  /** A pod's own identity: its service-account token (read anew on every request, it rotates) and CA. */
  static inCluster(env: Record<string, string | undefined> = process.env): KubeconfigFile {
    const host = env['KUBERNETES_SERVICE_HOST'];
    const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
    if (!host) throw new Error('not in a pod: KUBERNETES_SERVICE_HOST is unset (pass --kubeconfig)');
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new KubeconfigFile(
      {
        clusterName: 'in-cluster',
        cluster: { server },
        userName: 'in-cluster',
        user: {},
        ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt'), 'utf8'),
        tokenFile: join(SERVICE_ACCOUNT_DIR, 'token'),
      },
      SERVICE_ACCOUNT_DIR,
    );
  }

  /** Replaces the content (e.g. a renewed client certificate written to the same file). */
  reload(text: string): void {
    this.#resolved = resolve(text, this.#baseDir);
  }

  getCurrentCluster(): { name: string; server: string } {
    return { name: this.#resolved.clusterName, server: this.#resolved.cluster.server };
  }

  /** The current user's client certificate, PEM, if it has one. */
  clientCertificatePem(): string | undefined {
    return this.#resolved.cert;
  }

  /**
   * A kubeconfig, as text, with this one's current cluster entry as it is and
   * a user that presents `certificatePem` and `privateKeyPem`.
   */
  withClientCertificate(userName: string, certificatePem: string, privateKeyPem: string): string {
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const cluster: ClusterEntry = { ...this.#resolved.cluster };
    // Inline the CA: the new file must not depend on where this one found it.
    if (this.#resolved.ca) {
      delete cluster['certificate-authority'];
      cluster['certificate-authority-data'] = base64(this.#resolved.ca);
    }
    const document: KubeconfigDocument = {
      clusters: [{ name: this.#resolved.clusterName, cluster }],
      users: [
        {
          name: userName,
          user: {
            'client-certificate-data': base64(certificatePem),
            'client-key-data': base64(privateKeyPem),
          },
        },
      ],
      contexts: [{ name: userName, context: { cluster: this.#resolved.clusterName, user: userName } }],
      'current-context': userName,
    };
    return JSON.stringify({ apiVersion: 'v1', kind: 'Config', ...document }, null, 2);
  }

  applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const r = this.#resolved;
    if (r.ca) options.ca = r.ca;
    if (r.cert) options.cert = r.cert;
    if (r.key) options.key = r.key;
    if (r.cluster['insecure-skip-tls-verify']) options.rejectUnauthorized = false;
    if (r.cluster['tls-server-name']) options.servername = r.cluster['tls-server-name'];
    const token = r.tokenFile ? readFileSync(r.tokenFile, 'utf8').trim() : r.token;
    if (token) options.headers = { ...options.headers, authorization: `Bearer ${token}` };
    return Promise.resolve();
  }
}

function resolve(text: string, baseDir: string): Resolved {
  const document = (parse(text) ?? {}) as KubeconfigDocument;
  const contextName = document['current-context'];
  const context = document.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig: no context "${contextName ?? ''}" (set current-context)`);
  const cluster = document.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig: cluster "${context.cluster}" has no server`);
  const user = document.users?.find((u) => u.name === context.user)?.user ?? {};
  const file = (path: string) => readFileSync(isAbsolute(path) ? path : join(baseDir, path), 'utf8');
  const data = (inline: string | undefined, path: string | undefined) =>
    inline ? Buffer.from(inline, 'base64').toString('utf8') : path ? file(path) : undefined;
  const tokenFile =
    user.tokenFile && (isAbsolute(user.tokenFile) ? user.tokenFile : join(baseDir, user.tokenFile));
  return {
    clusterName: context.cluster,
    cluster: { ...cluster, server: cluster.server },
    userName: context.user,
    user,
    ...optional('ca', data(cluster['certificate-authority-data'], cluster['certificate-authority'])),
    ...optional('cert', data(user['client-certificate-data'], user['client-certificate'])),
    ...optional('key', data(user['client-key-data'], user['client-key'])),
    ...optional('token', user.token),
    ...optional('tokenFile', tokenFile),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

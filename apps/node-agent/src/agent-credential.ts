/**
 * The agent's own identity, the way a kubelet gets its: the host starts with a
 * bootstrap kubeconfig (a short-lived token and the cluster CA); the agent
 * makes a key, asks for a client certificate for `system:node-agent:<machine>`
 * by a CertificateSigningRequest (the node-operator approves it against the
 * Machine, the controller-manager signs it), and keeps it in its kubeconfig.
 * Before it expires the agent asks again with the certificate itself and
 * reloads the kubeconfig in place, so every client picks the new one up.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_AGENT_GROUP, NODE_AGENT_SIGNER, nodeAgentUser } from '@kok/api/core';
import { createClientSigningRequest } from '@kok/pki/signing-request';
import { isNotFound, KubeClient, KubeconfigFile } from '@kok/reconcile';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { writeFileAtomic } from './atomic-file.ts';
import { judgeCredential, type CertificateFacts } from './credential-renewal.ts';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** Per request to the apiserver while asking for a certificate. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface AgentCredentialOptions {
  machine: string;
  /** Where the agent keeps its own kubeconfig (client certificate and key inline, mode 0600). */
  kubeconfigPath: string;
  /** The host's bootstrap kubeconfig: used only while the agent has no valid certificate of its own. */
  bootstrapKubeconfigPath: string;
  /** What the agent asks for (spec.expirationSeconds); the approver refuses more than a week. */
  certificateSeconds: number;
  log: Logger;
  /** How often a pending request is looked at. Default 1 s. */
  pollIntervalMs?: number;
  /** Wait after a denied or failed request before asking again. Default 30 s (the kubelet's pace). */
  retryDelayMs?: number;
  /** In [0, 1): where the renewal falls between 70 % and 90 % of the life. Default random. */
  jitter?: () => number;
  /** The clock the certificate's life is read against. Default: the system clock. */
  now?: () => Date;
}

export class AgentCredential {
  readonly #options: AgentCredentialOptions;
  readonly #log: Logger;

  constructor(options: AgentCredentialOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'credential' });
  }

  /**
   * A kubeconfig with a certificate of this Machine's agent: the one on disk
   * when it is still good, else a new one, asked for with the bootstrap
   * kubeconfig until it is approved (a denied request is logged and asked again).
   */
  async obtain(signal: AbortSignal): Promise<KubeconfigFile> {
    const current = this.#readOwn();
    const verdict = judgeCredential(current?.facts, this.#options.machine, this.#now(), this.#jitter());
    if (current && verdict.usable) return current.kubeConfig;
    const reason = verdict.usable ? '' : verdict.reason;
    this.#log.info(
      {
        kubeconfig: this.#options.kubeconfigPath,
        bootstrapKubeconfig: this.#options.bootstrapKubeconfigPath,
      },
      `asking for a client certificate of ${nodeAgentUser(this.#options.machine)} with the bootstrap kubeconfig: ${reason}`,
    );
    let bootstrap: KubeconfigFile;
    try {
      bootstrap = KubeconfigFile.load(this.#options.bootstrapKubeconfigPath);
    } catch (error) {
      throw new Error(
        `no usable credential at ${this.#options.kubeconfigPath} (${reason}) and the bootstrap kubeconfig ${this.#options.bootstrapKubeconfigPath} cannot be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await this.#renewUntilIssued(bootstrap, signal);
    return KubeconfigFile.load(this.#options.kubeconfigPath);
  }

  /**
   * Renews `kubeConfig`'s certificate before it expires, for as long as
   * `signal` is not aborted: asks with the certificate itself, writes the new
   * one and reloads `kubeConfig` in place.
   */
  keepRenewed(kubeConfig: KubeconfigFile, signal: AbortSignal): void {
    const loop = async () => {
      while (!signal.aborted) {
        const facts = certificateFacts(kubeConfig);
        const verdict = judgeCredential(facts, this.#options.machine, this.#now(), this.#jitter());
        if (!verdict.usable) {
          // Nothing left to renew with: the agent is shut out until a new bootstrap kubeconfig arrives and it restarts.
          this.#log.error(
            `cannot renew the agent certificate: ${verdict.reason}; restart the agent with a fresh bootstrap kubeconfig`,
          );
          return;
        }
        const delay = verdict.renewAt.getTime() - this.#now().getTime();
        if (delay > 0) {
          this.#log.info(
            { renewAt: verdict.renewAt.toISOString(), notAfter: facts?.notAfter.toISOString() },
            'agent certificate valid; renewal scheduled',
          );
          await sleep(Math.min(delay, 2 ** 31 - 1), undefined, { signal }).catch(() => undefined);
          continue;
        }
        await this.#renewUntilIssued(kubeConfig, signal, facts?.notAfter);
        if (signal.aborted) return;
        kubeConfig.reload(await readFile(this.#options.kubeconfigPath, 'utf8'));
        this.#log.info(
          { notAfter: certificateFacts(kubeConfig)?.notAfter.toISOString() },
          'agent certificate renewed',
        );
      }
    };
    void loop().catch((error: unknown) => {
      if (!signal.aborted) this.#log.error({ err: error }, 'agent certificate renewal stopped');
    });
  }

  /** Asks with `auth` until a certificate is issued and written (or `until` passes, or `signal` aborts). */
  async #renewUntilIssued(auth: KubeconfigFile, signal: AbortSignal, until?: Date): Promise<void> {
    // Short requests: a poll that hangs on a dead connection is dropped and asked again, not waited out.
    const client = new KubeClient(auth, {
      userAgent: 'kok-node-agent-credential',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    try {
      for (;;) {
        signal.throwIfAborted();
        try {
          await this.#requestOnce(client, auth, signal);
          return;
        } catch (error) {
          if (signal.aborted) throw error;
          if (until && this.#now() >= until) throw error;
          this.#log.error(
            { err: error, retryInMs: this.#options.retryDelayMs ?? 30_000 },
            `no agent certificate: ${(error as Error).message}`,
          );
          await sleep(this.#options.retryDelayMs ?? 30_000, undefined, { signal });
        }
      }
    } finally {
      client.close();
    }
  }

  async #requestOnce(client: KubeClient, auth: KubeconfigFile, signal: AbortSignal): Promise<void> {
    const { machine } = this.#options;
    const { requestPem, privateKeyPem } = createClientSigningRequest({
      commonName: nodeAgentUser(machine),
      organizations: [NODE_AGENT_GROUP],
    });
    const created = await client.request<V1CertificateSigningRequest>('POST', CSR_PATH, {
      signal,
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { generateName: `node-agent-${machine}-`, labels: { 'nodes.kok.dev/machine': machine } },
        spec: {
          signerName: NODE_AGENT_SIGNER,
          usages: ['digital signature', 'client auth'],
          expirationSeconds: this.#options.certificateSeconds,
          request: Buffer.from(requestPem).toString('base64'),
        },
      },
    });
    const name = created.metadata?.name ?? '';
    this.#log.info(
      { csr: name },
      `certificate requested (CSR ${name}); waiting for the node-operator to approve it`,
    );
    const certificatePem = await this.#awaitCertificate(client, name, signal);
    const kubeconfig = auth.withClientCertificate(nodeAgentUser(machine), certificatePem, privateKeyPem);
    await writeFileAtomic(this.#options.kubeconfigPath, kubeconfig, 0o600);
    this.#log.info(
      { csr: name, kubeconfig: this.#options.kubeconfigPath },
      `certificate of ${nodeAgentUser(machine)} issued`,
    );
  }

  /** Polls the CSR until it carries a certificate; throws when it is denied, fails or disappears. */
  async #awaitCertificate(client: KubeClient, name: string, signal: AbortSignal): Promise<string> {
    let lastLog = Date.now();
    for (;;) {
      let csr: V1CertificateSigningRequest;
      try {
        csr = await client.request<V1CertificateSigningRequest>('GET', `${CSR_PATH}/${name}`, { signal });
      } catch (error) {
        if (isNotFound(error))
          throw new Error(`CSR ${name} was deleted before it was signed`, { cause: error });
        if (signal.aborted) throw error;
        // A timed-out or broken poll says nothing about the CSR: ask again on a fresh connection.
        this.#log.warn({ csr: name, err: error }, `reading CSR ${name} failed; asking again`);
        await sleep(this.#options.pollIntervalMs ?? 1000, undefined, { signal });
        continue;
      }
      const refused = (csr.status?.conditions ?? []).find(
        (c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True',
      );
      if (refused)
        throw new Error(
          `CSR ${name} ${refused.type.toLowerCase()}: ${refused.message ?? refused.reason ?? ''}`,
        );
      if (csr.status?.certificate) return Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        const approved = (csr.status?.conditions ?? []).some((c) => c.type === 'Approved');
        this.#log.warn(
          { csr: name },
          approved
            ? `CSR ${name} approved, not signed yet (is the controller-manager signing?)`
            : `CSR ${name} not approved yet (is the node-operator running, and is there a Machine ${this.#options.machine}?)`,
        );
      }
      await sleep(this.#options.pollIntervalMs ?? 1000, undefined, { signal });
    }
  }

  #readOwn(): { kubeConfig: KubeconfigFile; facts: CertificateFacts | undefined } | undefined {
    let kubeConfig: KubeconfigFile;
    try {
      kubeConfig = KubeconfigFile.load(this.#options.kubeconfigPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.#log.warn(
        { err: error },
        `the agent kubeconfig ${this.#options.kubeconfigPath} cannot be read; asking anew`,
      );
      return undefined;
    }
    return { kubeConfig, facts: certificateFacts(kubeConfig) };
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #jitter(): number {
    return this.#options.jitter?.() ?? randomBytes(4).readUInt32BE() / 2 ** 32;
  }
}

/** The current user's client certificate, if it has one inline. */
export function certificateFacts(kubeConfig: KubeconfigFile): CertificateFacts | undefined {
  const pem = kubeConfig.clientCertificatePem();
  if (!pem) return undefined;
  try {
    const certificate = new X509Certificate(pem);
    const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1];
    return {
      commonName,
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
    };
  } catch {
    return undefined;
  }
}

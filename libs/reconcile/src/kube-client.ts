import * as http from 'node:http';
import * as https from 'node:https';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { apiErrorFrom } from './api-errors.ts';
import type { Clock } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import { AdaptiveTokenBucket } from './adaptive-rate.ts';
import { TokenBucket } from './rate-limiters.ts';
import type { ResourceType } from './resource-type.ts';
import { resourcePath } from './resource-type.ts';

export interface KubeClientOptions {
  /** Sustained requests per second this client may send. Default 20 (controller-runtime's). */
  qps?: number;
  /** Requests allowed back to back above qps. Default 30. */
  burst?: number;
  /**
   * The most the rate may rise to: above qps, the rate follows the apiserver (adaptive-rate.ts), rising
   * while requests wait and none is refused, halving on each 429. Default: qps, a fixed rate.
   */
  maxQps?: number;
  /** fieldManager of every write (server-side apply owner). Default `kok`. */
  fieldManager?: string;
  /** User-Agent header. Default `kok-reconcile`. */
  userAgent?: string;
  /** Deadline of one non-watch request. Default 60 s. */
  requestTimeoutMs?: number;
  /** Default: the real clock. */
  clock?: Clock;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  signal?: AbortSignal;
}

/** Content types of PATCH requests. */
export const PatchType = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategicMerge: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

/** One JSON Patch (RFC 6902) operation. */
export type JsonPatchOperation =
  { op: 'add' | 'replace' | 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size. Default 500 (client-go's). */
  limit?: number;
  signal?: AbortSignal;
}

export interface ObjectRef {
  namespace?: string | undefined;
  name: string;
}

/**
 * What KubeClient needs of a kubeconfig: where the apiserver is, and the TLS
 * and credentials of a request. client-node's KubeConfig is one;
 * KubeconfigFile is a lighter one.
 */
export interface KubeConnection {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

/**
 * A small REST client over the KubeConfig's TLS and credentials, generic over
 * resource types (built-in kinds and CRDs alike). Every request passes a
 * client-side token bucket; failures are typed ApiErrors (api-errors.ts).
 */
export class KubeClient {
  readonly kubeConfig: KubeConnection;
  readonly fieldManager: string;
  readonly #server: URL;
  readonly #bucket: TokenBucket | AdaptiveTokenBucket;
  readonly #clock: Clock;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  #agent: http.Agent | undefined;
  /** The client certificate #agent dials with: a renewed one (the kubeconfig reloaded in place) needs new connections. */
  #agentCertificate: string | undefined;

  constructor(kubeConfig: KubeConnection, options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster: set current-context');
    this.kubeConfig = kubeConfig;
    this.#server = new URL(cluster.server);
    this.#clock = options.clock ?? realClock;
    const qps = options.qps ?? 20;
    const burst = options.burst ?? 30;
    this.#bucket =
      options.maxQps !== undefined && options.maxQps > qps
        ? new AdaptiveTokenBucket({ qps, maxQps: options.maxQps, burst, clock: this.#clock })
        : new TokenBucket(qps, burst, this.#clock);
    this.fieldManager = options.fieldManager ?? 'kok';
    this.#userAgent = options.userAgent ?? 'kok-reconcile';
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** Sends one request and decodes the JSON answer; throws an ApiError on a non-2xx status. */
  async request<R>(method: string, path: string, options: RequestOptions = {}): Promise<R> {
    const signal = options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(this.#timeoutMs)])
      : AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#send(method, path, options, signal);
    const text = await readAll(response);
    const body: unknown = text ? parseJson(text) : undefined;
    const code = response.statusCode ?? 0;
    if (code < 200 || code > 299) {
      const retryAfter = response.headers['retry-after'];
      throw apiErrorFrom(
        code,
        body ?? text,
        `${method} ${path}`,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      );
    }
    return body as R;
  }

  /**
   * Opens a streaming GET (a watch). Resolves once the status line is in;
   * the caller reads and destroys the stream. Aborting `signal` ends it.
   */
  async stream(path: string, query: Query, signal: AbortSignal): Promise<http.IncomingMessage> {
    const response = await this.#send('GET', path, { query }, signal);
    const code = response.statusCode ?? 0;
    if (code !== 200) {
      const text = await readAll(response);
      throw apiErrorFrom(code, text ? parseJson(text) : text, `watch ${path}`);
    }
    return response;
  }

  async #send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const wait = this.#bucket.reserve();
    if (wait > 0) await sleep(this.#clock, wait, signal);
    signal.throwIfAborted();
    const tls: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(tls);
    const url = new URL(path, this.#server);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: http.OutgoingHttpHeaders = {
      ...(tls.headers as http.OutgoingHttpHeaders | undefined),
      accept: 'application/json',
      'user-agent': this.#userAgent,
    };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const isHttps = url.protocol === 'https:';
    const certificate = certificateKey(tls.cert);
    if (this.#agent && this.#agentCertificate !== certificate) {
      // Before the old certificate expires: watches are cut and resume from their resourceVersion.
      this.#agent.destroy();
      this.#agent = undefined;
    }
    this.#agentCertificate = certificate;
    const agent = (this.#agent ??= isHttps
      ? new https.Agent({
          keepAlive: true,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          pfx: tls.pfx,
          passphrase: tls.passphrase,
          servername: tls.servername,
          ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
        })
      : new http.Agent({ keepAlive: true }));
    const requestFn = isHttps ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = requestFn(url, { method, headers, agent, auth: tls.auth, signal }, (response) => {
        if (this.#bucket instanceof AdaptiveTokenBucket) {
          const retryAfter = Number(response.headers['retry-after']);
          this.#bucket.observe(
            response.statusCode ?? 0,
            Number.isFinite(retryAfter) ? retryAfter : undefined,
          );
        }
        resolve(response);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  get<T extends KubernetesObject>(type: ResourceType<T>, ref: ObjectRef, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', resourcePath(type, ref), { signal });
  }

  /** One page of a list; pass the previous page's metadata.continue to get the next. */
  listPage<T extends KubernetesObject>(
    type: ResourceType<T>,
    options: ListOptions & { continueToken?: string | undefined; resourceVersion?: string },
  ): Promise<KubernetesListObject<T>> {
    return this.request<KubernetesListObject<T>>(
      'GET',
      resourcePath(type, { namespace: options.namespace }),
      {
        signal: options.signal,
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: options.limit ?? 500,
          continue: options.continueToken,
          resourceVersion: options.resourceVersion,
        },
      },
    );
  }

  /** Every object, fetched page by page; resourceVersion is the list's (consistent) version. */
  async list<T extends KubernetesObject>(
    type: ResourceType<T>,
    options: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    const resourceVersion = await this.listEach(type, options, (item) => items.push(item));
    return { items, resourceVersion };
  }

  /**
   * Visits every object page by page and returns the list's resourceVersion.
   * Only one page is alive at a time, so a caller that keeps a trimmed copy of
   * each item never holds the whole raw list (10,000 Nodes with their image
   * lists are hundreds of MiB).
   */
  async listEach<T extends KubernetesObject>(
    type: ResourceType<T>,
    options: ListOptions,
    visit: (item: T) => void,
  ): Promise<string> {
    let continueToken: string | undefined;
    for (;;) {
      const page = await this.listPage(type, { ...options, continueToken });
      for (const item of page.items) visit(item);
      // Raw JSON says `continue` (client-node's model renames it to _continue).
      continueToken = (page.metadata as { continue?: string } | undefined)?.continue;
      if (!continueToken) return page.metadata?.resourceVersion ?? '';
    }
  }

  create<T extends KubernetesObject>(type: ResourceType<T>, obj: T, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', resourcePath(type, { namespace: obj.metadata?.namespace }), {
      body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
      query: { fieldManager: this.fieldManager },
      signal,
    });
  }

  /** PUT; with metadata.resourceVersion set it fails with ConflictError if the object changed. */
  replace<T extends KubernetesObject>(type: ResourceType<T>, obj: T, signal?: AbortSignal): Promise<T> {
    return this.request<T>(
      'PUT',
      resourcePath(type, { namespace: obj.metadata?.namespace, name: obj.metadata?.name }),
      {
        body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
        query: { fieldManager: this.fieldManager },
        signal,
      },
    );
  }

  patch<T extends KubernetesObject>(
    type: ResourceType<T>,
    ref: ObjectRef,
    patchType: PatchType,
    patch: unknown,
    options: { subresource?: string; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(type, { ...ref, subresource: options.subresource }), {
      body: patch,
      contentType: patchType,
      query: { fieldManager: this.fieldManager, force: options.force },
      signal: options.signal,
    });
  }

  /**
   * Server-side apply of `obj` as this client's field manager, forcing
   * ownership of conflicting fields: the caller's intent is authoritative.
   */
  apply<T extends KubernetesObject>(
    type: ResourceType<T>,
    obj: T,
    options: { subresource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`apply ${type.kind}: metadata.name is required`);
    // JSON is valid YAML, so the apply-patch+yaml content type takes it as is.
    return this.patch(
      type,
      { namespace: obj.metadata?.namespace, name },
      PatchType.apply,
      {
        ...obj,
        apiVersion: type.apiVersion,
        kind: type.kind,
      },
      { ...options, force: true },
    );
  }

  /** Server-side apply of the status subresource. */
  applyStatus<T extends KubernetesObject>(type: ResourceType<T>, obj: T, signal?: AbortSignal): Promise<T> {
    return this.apply(type, obj, { subresource: 'status', signal });
  }

  /** JSON merge patch of the status subresource. */
  mergePatchStatus<T extends KubernetesObject>(
    type: ResourceType<T>,
    ref: ObjectRef,
    patch: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.patch(type, ref, PatchType.merge, patch, { subresource: 'status', signal });
  }

  /** Deletes; resolves quietly when the object is already gone. */
  async delete(
    type: ResourceType,
    ref: ObjectRef,
    options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; signal?: AbortSignal } = {},
  ): Promise<void> {
    try {
      await this.request('DELETE', resourcePath(type, ref), {
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: options.propagationPolicy ?? 'Background',
        },
        signal: options.signal,
      });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }
}

function readAll(stream: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A client certificate as comparable text (client-node hands out a new Buffer on every call). */
function certificateKey(cert: https.RequestOptions['cert']): string | undefined {
  if (cert === undefined) return undefined;
  const parts = Array.isArray(cert) ? cert : [cert];
  return parts
    .map((part) => (typeof part === 'string' ? part : Buffer.from(part).toString('base64')))
    .join('|');
}

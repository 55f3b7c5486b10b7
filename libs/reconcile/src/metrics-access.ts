/**
 * Who may read /metrics, decided by the apiserver as kube-rbac-proxy decides
 * it: the bearer token must pass a TokenReview, and the user it names needs
 * `get` on the non-resource URL /metrics (a SubjectAccessReview). Decisions
 * are cached briefly, so a scrape every few seconds costs the apiserver two
 * requests per cache period, not per scrape.
 */
import { createHash } from 'node:crypto';
import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import type { KubeClient } from './kube-client.ts';

export type MetricsAccess =
  | { allowed: true; user: string }
  /** 401: no token or not a valid one; 403: valid, but not allowed; 500: the apiserver could not be asked. */
  | { allowed: false; status: 401 | 403 | 500; reason: string };

export interface MetricsAccessReviewOptions {
  /** Default: the real clock. */
  clock?: Clock;
  /** How long an allowed token stays allowed without asking again. Default 30 s. */
  allowedTtlMs?: number;
  /** How long a refused token stays refused (a fresh grant takes effect after this). Default 10 s. */
  deniedTtlMs?: number;
  /** Tokens remembered at most; the oldest go first. Default 1000. */
  maxEntries?: number;
}

/** The non-resource URL and verb a reader of the metrics needs (kube-rbac-proxy's model). */
export const METRICS_PATH = '/metrics';

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The token of an `Authorization: Bearer <token>` header, if it has one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export class MetricsAccessReview {
  readonly #client: KubeClient;
  readonly #clock: Clock;
  readonly #allowedTtlMs: number;
  readonly #deniedTtlMs: number;
  readonly #maxEntries: number;
  /** By the token's SHA-256, so the process keeps no token in memory longer than a request. */
  readonly #decisions = new Map<string, { access: MetricsAccess; expiresAt: number }>();

  constructor(client: KubeClient, options: MetricsAccessReviewOptions = {}) {
    this.#client = client;
    this.#clock = options.clock ?? realClock;
    this.#allowedTtlMs = options.allowedTtlMs ?? 30_000;
    this.#deniedTtlMs = options.deniedTtlMs ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  /** Decides on a request from its Authorization header. */
  async review(authorization: string | undefined): Promise<MetricsAccess> {
    const token = bearerToken(authorization);
    if (!token) return { allowed: false, status: 401, reason: 'a bearer token is required' };
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.#clock.now();
    const cached = this.#decisions.get(key);
    if (cached && cached.expiresAt > now) return cached.access;
    this.#decisions.delete(key);
    let access: MetricsAccess;
    try {
      access = await this.#ask(token);
    } catch (error) {
      // Not cached: the next scrape asks again.
      return { allowed: false, status: 500, reason: `cannot review the token: ${(error as Error).message}` };
    }
    this.#decisions.set(key, {
      access,
      expiresAt: now + (access.allowed ? this.#allowedTtlMs : this.#deniedTtlMs),
    });
    for (const oldest of this.#decisions.keys()) {
      if (this.#decisions.size <= this.#maxEntries) break;
      this.#decisions.delete(oldest);
    }
    return access;
  }

  async #ask(token: string): Promise<MetricsAccess> {
    const review = await this.#client.request<{ status?: TokenReviewStatus }>(
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } },
    );
    const identity = review.status;
    if (!identity?.authenticated || !identity.user?.username)
      return { allowed: false, status: 401, reason: identity?.error || 'the token is not valid' };
    const { username, uid, groups, extra } = identity.user;
    const decision = await this.#client.request<{ status?: SubjectAccessReviewStatus }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: username,
            ...(uid ? { uid } : {}),
            ...(groups ? { groups } : {}),
            ...(extra ? { extra } : {}),
            nonResourceAttributes: { path: METRICS_PATH, verb: 'get' },
          },
        },
      },
    );
    if (decision.status?.allowed) return { allowed: true, user: username };
    return {
      allowed: false,
      status: 403,
      reason: `${username} may not get ${METRICS_PATH}${decision.status?.reason ? `: ${decision.status.reason}` : ''}`,
    };
  }
}

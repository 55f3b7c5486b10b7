/**
 * What the agent agrees to download for a Component artifact: which URL
 * schemes, and how many bytes. The apiserver already refuses a plain http://
 * URL without the opt-in; the agent decides again, so a catalog entry that
 * slipped past the CRD (an older CRD, a direct etcd write) is still refused.
 */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { DEFAULT_ARTIFACT_MAX_SIZE_BYTES } from '@kok/api/core';

export interface ArtifactSource {
  readonly url: string;
  /** Default DEFAULT_ARTIFACT_MAX_SIZE_BYTES. */
  readonly maxSizeBytes?: number | undefined;
  /** Accept a plain http:// URL. Default false. */
  readonly allowInsecureHttp?: boolean | undefined;
}

/** Why an artifact is not downloaded; the agent reports `reason` on the Machine and in an Event. */
export type ArtifactRefusalReason = 'ArtifactChecksumMismatch' | 'ArtifactTooLarge' | 'ArtifactInsecureUrl';

const REFUSAL_REASONS: ReadonlySet<string> = new Set<ArtifactRefusalReason>([
  'ArtifactChecksumMismatch',
  'ArtifactTooLarge',
  'ArtifactInsecureUrl',
]);

/** Whether a Machine error reason is an artifact refusal (which lasts until the catalog changes). */
export function isArtifactRefusal(reason: string | undefined): boolean {
  return reason !== undefined && REFUSAL_REASONS.has(reason);
}

/** The artifact cannot be installed as the catalog describes it; retried only when the catalog entry changes. */
export class ArtifactRefusedError extends Error {
  readonly reason: ArtifactRefusalReason;
  readonly url: string;
  /** A few words for the component's state on the Machine. */
  readonly summary: string;
  constructor(reason: ArtifactRefusalReason, url: string, message: string, summary: string) {
    super(message);
    this.name = 'ArtifactRefusedError';
    this.reason = reason;
    this.url = url;
    this.summary = summary;
  }
}

/** More bytes than the artifact's maxSizeBytes: nothing of it is kept. */
export class ArtifactTooLargeError extends ArtifactRefusedError {
  readonly maxSizeBytes: number;
  constructor(url: string, maxSizeBytes: number, evidence: string) {
    super(
      'ArtifactTooLarge',
      url,
      `artifact ${url} is larger than its maxSizeBytes ${maxSizeBytes} (${evidence}); not installed: raise artifact.maxSizeBytes in the Component if the artifact really is that large`,
      `refused: artifact larger than maxSizeBytes ${maxSizeBytes}`,
    );
    this.name = 'ArtifactTooLargeError';
    this.maxSizeBytes = maxSizeBytes;
  }
}

/** A URL whose scheme the Component does not allow; nothing is fetched. */
export class InsecureArtifactUrlError extends ArtifactRefusedError {
  constructor(url: string, problem: string) {
    super(
      'ArtifactInsecureUrl',
      url,
      `artifact ${url} not downloaded: ${problem}`,
      'refused: artifact URL scheme not allowed',
    );
    this.name = 'InsecureArtifactUrlError';
  }
}

export type ArtifactScheme = 'https' | 'http' | 'file';

/** The scheme to fetch the artifact with, or why it must not be fetched. */
export function artifactScheme(artifact: ArtifactSource): { scheme: ArtifactScheme } | { problem: string } {
  let protocol: string;
  try {
    protocol = new URL(artifact.url).protocol;
  } catch {
    return { problem: 'not a valid URL' };
  }
  if (protocol === 'https:') return { scheme: 'https' };
  if (protocol === 'file:') return { scheme: 'file' };
  if (protocol === 'http:')
    return artifact.allowInsecureHttp === true
      ? { scheme: 'http' }
      : {
          problem:
            'plain http:// is not allowed: use an https:// URL, or set artifact.allowInsecureHttp: true in the Component',
        };
  return { problem: `the ${protocol.replace(/:$/, '')} scheme is not supported; use https://` };
}

/** The artifact's cap in bytes. */
export function maxSizeOf(artifact: ArtifactSource): number {
  return artifact.maxSizeBytes ?? DEFAULT_ARTIFACT_MAX_SIZE_BYTES;
}

/**
 * Whether a size announced before the body (Content-Length, a file's size)
 * already exceeds the cap. An absent or unreadable size is no proof: the
 * bytes are counted as they arrive.
 */
export function isDeclaredSizeOverCap(declared: string | number | undefined, cap: number): boolean {
  if (declared === undefined) return false;
  const size =
    typeof declared === 'number' ? declared : /^\d+$/.test(declared.trim()) ? Number(declared) : NaN;
  return Number.isFinite(size) && size > cap;
}

/**
 * Passes bytes through until more than `cap` have gone by, then fails the
 * stream with ArtifactTooLargeError, so a pipeline stops reading (and drops
 * the connection) at the first byte over.
 */
export function byteCap(url: string, cap: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > cap) callback(new ArtifactTooLargeError(url, cap, `more than ${cap} bytes arrived`));
      else callback(null, chunk);
    },
  });
}

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_ARTIFACT_MAX_SIZE_BYTES } from '@kok/api/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArtifactTooLargeError,
  artifactScheme,
  byteCap,
  isArtifactRefusal,
  isDeclaredSizeOverCap,
  maxSizeOf,
} from './artifact-limits.ts';

describe('artifactScheme', () => {
  it.each([
    ['https://artifacts.example/kubelet', undefined, { scheme: 'https' }],
    ['file:///srv/artifacts/kubelet', undefined, { scheme: 'file' }],
    ['http://127.0.0.1:8080/kubelet', true, { scheme: 'http' }],
    ['HTTP://127.0.0.1:8080/kubelet', true, { scheme: 'http' }],
  ] as const)('fetches %s (allowInsecureHttp %s)', (url, allowInsecureHttp, expected) => {
    expect(artifactScheme({ url, allowInsecureHttp })).toEqual(expected);
  });

  it.each([
    [
      'http://127.0.0.1:8080/kubelet',
      undefined,
      'use an https:// URL, or set artifact.allowInsecureHttp: true',
    ],
    ['http://127.0.0.1:8080/kubelet', false, 'use an https:// URL, or set artifact.allowInsecureHttp: true'],
    ['HTTP://127.0.0.1:8080/kubelet', undefined, 'plain http:// is not allowed'],
    ['ftp://artifacts.example/kubelet', true, 'the ftp scheme is not supported'],
    ['artifacts.example/kubelet', true, 'not a valid URL'],
  ] as const)('refuses %s (allowInsecureHttp %s)', (url, allowInsecureHttp, problem) => {
    const decision = artifactScheme({ url, allowInsecureHttp });
    expect('problem' in decision ? decision.problem : '').toContain(problem);
  });
});

describe('size cap', () => {
  it('is 512 MiB unless the artifact sets one', () => {
    expect(DEFAULT_ARTIFACT_MAX_SIZE_BYTES).toBe(536_870_912);
    expect(maxSizeOf({ url: 'https://a/x' })).toBe(DEFAULT_ARTIFACT_MAX_SIZE_BYTES);
    expect(maxSizeOf({ url: 'https://a/x', maxSizeBytes: 1024 })).toBe(1024);
  });

  it.each([
    [undefined, 10, false],
    ['10', 10, false],
    ['11', 10, true],
    [' 11 ', 10, true],
    [11, 10, true],
    ['', 10, false],
    ['12abc', 10, false],
    ['99999999999999999999', DEFAULT_ARTIFACT_MAX_SIZE_BYTES, true],
  ] as const)('an announced size of %j is over a cap of %d: %s', (declared, cap, over) => {
    expect(isDeclaredSizeOverCap(declared, cap)).toBe(over);
  });

  /** Runs `chunks` through byteCap into a sink; what the sink got, and the error if any. */
  async function throughCap(chunks: readonly number[], cap: number) {
    const received: number[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk.length);
        callback();
      },
    });
    const source = Readable.from(chunks.map((size) => Buffer.alloc(size)));
    const error = await pipeline(source, byteCap('https://a/x', cap), sink).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { received: received.reduce((a, b) => a + b, 0), error };
  }

  it('passes a stream of at most cap bytes whole, and fails one over it without passing more than cap', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 600 }),
        async (chunks, cap) => {
          const total = chunks.reduce((a, b) => a + b, 0);
          const { received, error } = await throughCap(chunks, cap);
          if (total <= cap) {
            expect(error).toBeUndefined();
            expect(received).toBe(total);
          } else {
            expect(error).toBeInstanceOf(ArtifactTooLargeError);
            expect((error as ArtifactTooLargeError).reason).toBe('ArtifactTooLarge');
            expect(received).toBeLessThanOrEqual(cap);
          }
        },
      ),
    );
  });

  it('names the cap and what to do in the refusal', async () => {
    const { error } = await throughCap([8, 8], 10);
    expect(String(error)).toMatch(
      /artifact https:\/\/a\/x is larger than its maxSizeBytes 10 \(more than 10 bytes arrived\); not installed: raise artifact.maxSizeBytes/,
    );
  });
});

describe('isArtifactRefusal', () => {
  it.each([
    ['ArtifactChecksumMismatch', true],
    ['ArtifactTooLarge', true],
    ['ArtifactInsecureUrl', true],
    ['InstallFailed', false],
    [undefined, false],
  ] as const)('%s: %s', (reason, refusal) => {
    expect(isArtifactRefusal(reason)).toBe(refusal);
  });
});

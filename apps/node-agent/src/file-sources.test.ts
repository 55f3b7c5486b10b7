import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { contentOf, referenceOf } from './file-sources.ts';

const secretFile = { path: '/etc/x', secretRef: { namespace: 'kok-node-files', name: 's', key: 'token' } };
const mapFile = { path: '/etc/y', configMapRef: { namespace: 'kok-node-files', name: 'm', key: 'conf' } };

describe('file sources', () => {
  it('names the referenced object', () => {
    expect(referenceOf(secretFile)).toEqual({
      kind: 'Secret',
      namespace: 'kok-node-files',
      name: 's',
      key: 'token',
    });
    expect(referenceOf(mapFile)?.kind).toBe('ConfigMap');
    expect(referenceOf({ path: '/etc/z', content: 'a' })).toBeUndefined();
  });

  const secretRef = referenceOf(secretFile);
  const mapRef = referenceOf(mapFile);
  if (!secretRef || !mapRef) throw new Error('references');
  it.each([
    {
      name: 'secret data is base64',
      file: secretFile,
      ref: secretRef,
      object: { data: { token: Buffer.from('héllo\n').toString('base64') } },
      synced: true,
      want: { content: 'héllo\n' },
    },
    {
      name: 'configmap data',
      file: mapFile,
      ref: mapRef,
      object: { data: { conf: 'a: 1\n' } },
      synced: true,
      want: { content: 'a: 1\n' },
    },
    {
      name: 'configmap binaryData',
      file: mapFile,
      ref: mapRef,
      object: { binaryData: { conf: Buffer.from('b').toString('base64') } },
      synced: true,
      want: { content: 'b' },
    },
    {
      name: 'missing object',
      file: mapFile,
      ref: mapRef,
      object: undefined,
      synced: true,
      want: { reason: 'FileSourceNotFound' },
    },
    {
      name: 'missing key',
      file: secretFile,
      ref: secretRef,
      object: { data: {} },
      synced: true,
      want: { reason: 'FileSourceKeyNotFound' },
    },
    {
      name: 'not readable yet',
      file: secretFile,
      ref: secretRef,
      object: undefined,
      synced: false,
      want: { reason: 'FileSourceUnavailable' },
    },
  ])('$name', ({ file, ref, object, synced, want }) => {
    const result = contentOf(file, ref, object as V1Secret | V1ConfigMap | undefined, synced);
    expect(result).toMatchObject(want);
    if ('message' in result) expect(result.message).toContain(file.path);
  });
});

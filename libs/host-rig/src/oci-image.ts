import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { canonicalJson } from '@kok/reconcile';
import { createTarArchive, type TarEntry } from './tar-archive.ts';

/**
 * One path in an image layer. Paths are inside the image ("/bin/sh" or "bin/sh"); parent directories are
 * not implied, list them when their mode matters. A file's bytes are given inline or read from a host file.
 */
export type LayerEntry =
  | { readonly type: 'file'; readonly path: string; readonly content: Buffer | string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly fromFile: string; readonly mode: number }
  | { readonly type: 'directory'; readonly path: string; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

/** The runtime defaults of the image (the `config` object of an OCI image config). */
export interface OciImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** "NAME=value" strings. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** "port/protocol", e.g. "8080/tcp". */
  readonly exposedPorts?: readonly string[];
}

export interface OciImageOptions {
  /** Repository with its registry domain, e.g. "kok.dev/test/pause". */
  readonly name: string;
  readonly tag: string;
  /**
   * More tags of the same repository for the same manifest (e.g. a next patch version served by this
   * build): the index names the manifest once per tag, and `ctr images import` creates each name.
   */
  readonly extraTags?: readonly string[];
  /** Bottom layer first. */
  readonly layers: readonly (readonly LayerEntry[])[];
  readonly config?: OciImageConfig;
  /** GOARCH spelling. Default: "amd64". */
  readonly architecture?: string;
  /** Default: "linux". */
  readonly os?: string;
}

export interface OciImage {
  /** "name:tag". */
  readonly reference: string;
  /** "name:tag" of the tag, then of each extra tag. */
  readonly references: readonly string[];
  /** Digest of the image manifest, "sha256:<hex>". */
  readonly digest: string;
  /** The OCI image layout (oci-layout, index.json, blobs/sha256/…) as one tar. */
  readonly tarball: Buffer;
}

export const ociMediaTypes = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

interface Blob extends Descriptor {
  readonly content: Buffer;
}

/**
 * Packs an image as an OCI image layout in a tar, reproducibly: uncompressed layers, no timestamps, JSON
 * with sorted keys, so the same options give the same bytes and the same manifest digest. The index names
 * the manifest, once per tag, with both the tag (`org.opencontainers.image.ref.name`) and the full reference
 * (`io.containerd.image.name`), which `ctr images import` takes as the image name.
 */
export function packOciImage(options: OciImageOptions): OciImage {
  const tags = [options.tag, ...(options.extraTags ?? []).filter((tag) => tag !== options.tag)];
  if (new Set(tags).size !== tags.length)
    throw new Error(`image ${options.name} lists a tag twice: ${tags.join(', ')}`);
  const references = tags.map((tag) => checkedReference(options.name, tag));
  const reference = references[0] as string;
  const architecture = options.architecture ?? 'amd64';
  const os = options.os ?? 'linux';
  const layers = options.layers.map((entries, index) => blob(ociMediaTypes.layer, layerTar(entries, index)));
  const config = blob(
    ociMediaTypes.config,
    canonicalJsonBytes({
      architecture,
      os,
      config: runtimeConfig(options.config ?? {}),
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    }),
  );
  const manifest = blob(
    ociMediaTypes.manifest,
    canonicalJsonBytes({
      schemaVersion: 2,
      mediaType: ociMediaTypes.manifest,
      config: descriptor(config),
      layers: layers.map(descriptor),
    }),
  );
  const index = canonicalJsonBytes({
    schemaVersion: 2,
    mediaType: ociMediaTypes.index,
    manifests: tags.map((tag, i) => ({
      ...descriptor(manifest),
      platform: { architecture, os },
      annotations: {
        'org.opencontainers.image.ref.name': tag,
        'io.containerd.image.name': references[i],
      },
    })),
  });
  const blobs = new Map([...layers, config, manifest].map((each) => [each.digest, each]));
  const tarball = createTarArchive([
    {
      type: 'file',
      path: 'oci-layout',
      content: canonicalJsonBytes({ imageLayoutVersion: '1.0.0' }),
      mode: 0o644,
    },
    { type: 'file', path: 'index.json', content: index, mode: 0o644 },
    { type: 'directory', path: 'blobs' },
    { type: 'directory', path: 'blobs/sha256' },
    ...[...blobs.values()].map((each): TarEntry => ({
      type: 'file',
      path: `blobs/sha256/${each.digest.slice('sha256:'.length)}`,
      content: each.content,
      mode: 0o644,
    })),
  ]);
  return { reference, references, digest: manifest.digest, tarball };
}

/** Packs the image and writes its tarball to `path` (parent directories created). */
export async function writeOciImage(path: string, options: OciImageOptions): Promise<OciImage> {
  const image = packOciImage(options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, image.tarball);
  return image;
}

// A domain first (it has a "." or ":" or is "localhost"), then lowercase path components: a name
// containerd and kubelet both keep as written instead of prefixing "docker.io/library/".
const domain = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z0-9-]+|[a-zA-Z0-9.-]+:[0-9]+)$/;
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkedReference(name: string, tag: string): string {
  const [first = '', ...rest] = name.split('/');
  if (!domain.test(first) || rest.length === 0 || !rest.every((part) => pathComponent.test(part)))
    throw new Error(
      `image name "${name}" must be a registry domain then lowercase path components (e.g. "kok.dev/test/pause"); ` +
        'without a domain, containerd and kubelet would read it as a docker.io/library image',
    );
  if (!tagPattern.test(tag))
    throw new Error(`image tag "${tag}" must be 1 to 128 of [A-Za-z0-9_.-] and not start with "." or "-"`);
  return `${name}:${tag}`;
}

function layerTar(entries: readonly LayerEntry[], layer: number): Buffer {
  const tarEntries = entries.map((entry) => tarEntry(entry, layer));
  try {
    return createTarArchive(tarEntries);
  } catch (error) {
    throw new Error(`layer ${layer}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

function tarEntry(entry: LayerEntry, layer: number): TarEntry {
  const path = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
  switch (entry.type) {
    case 'directory':
      return { ...entry, path };
    case 'symlink':
      return { ...entry, path };
    case 'file':
      return { type: 'file', path, mode: entry.mode, content: fileContent(entry, layer) };
  }
}

function fileContent(entry: Extract<LayerEntry, { type: 'file' }>, layer: number): Buffer {
  if ('content' in entry) return Buffer.from(entry.content);
  if (!isAbsolute(entry.fromFile))
    throw new Error(
      `layer ${layer} file "${entry.path}": fromFile "${entry.fromFile}" must be an absolute path`,
    );
  try {
    return readFileSync(entry.fromFile);
  } catch (error) {
    throw new Error(`layer ${layer} file "${entry.path}": cannot read ${entry.fromFile}: ${String(error)}`, {
      cause: error,
    });
  }
}

function runtimeConfig(config: OciImageConfig): Record<string, unknown> {
  return {
    Entrypoint: config.entrypoint,
    Cmd: config.cmd,
    Env: config.env,
    WorkingDir: config.workingDir,
    User: config.user,
    Labels: config.labels,
    ExposedPorts: config.exposedPorts && Object.fromEntries(config.exposedPorts.map((port) => [port, {}])),
  };
}

function blob(mediaType: string, content: Buffer): Blob {
  return {
    mediaType,
    digest: `sha256:${createHash('sha256').update(content).digest('hex')}`,
    content,
    size: content.length,
  };
}

function descriptor(of: Descriptor): Descriptor {
  return { mediaType: of.mediaType, digest: of.digest, size: of.size };
}

/** Canonical JSON (sorted keys at every depth): one text, and so one digest, per value. */
function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

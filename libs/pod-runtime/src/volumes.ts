/**
 * A pod's volumes as local directories: Secrets, ConfigMaps and projections of
 * them become files; emptyDir becomes an empty directory of the pod; a
 * PersistentVolumeClaim becomes the host directory of the hostPath volume it is
 * bound to, as a kubelet mounts it (else a directory keyed by the claim), so
 * the data outlives the pod (an etcd member restarted keeps its data) and a
 * claim deleted and made again under the same name gets its new volume's data.
 */
import type { V1KeyToPath, V1PersistentVolumeClaim, V1Pod, V1Volume } from '@kubernetes/client-node';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/** The data of Secrets and ConfigMaps, as bytes, by name in the pod's namespace; where claims' volumes are. */
export interface VolumeSources {
  secret(name: string): Readonly<Record<string, Buffer>> | undefined;
  configMap(name: string): Readonly<Record<string, Buffer>> | undefined;
  /** The host directory of the hostPath volume claim `name` is bound to, if it is bound to one. */
  claimHostPath?(name: string): string | undefined;
}

export interface VolumeFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

/** What a volume becomes: files in the pod's directory, an empty directory, or a claim's directory. */
export type VolumePlan =
  | { readonly kind: 'files'; readonly files: readonly VolumeFile[] }
  | { readonly kind: 'emptyDir' }
  | { readonly kind: 'claim'; readonly claimName: string };

/** Thrown when a volume cannot be made yet (a missing Secret) or at all (an unsupported type). */
export class VolumeError extends Error {}

function selectKeys(
  data: Readonly<Record<string, Buffer>>,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
  optional: boolean,
): VolumeFile[] {
  if (!items || items.length === 0)
    return Object.entries(data).map(([key, content]) => ({ path: key, content, mode: defaultMode }));
  const files: VolumeFile[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (!content) {
      if (optional) continue;
      throw new VolumeError(`${what} has no key ${item.key}`);
    }
    files.push({ path: item.path, content, mode: item.mode ?? defaultMode });
  }
  return files;
}

/** The plan of one volume; throws a VolumeError naming what is missing or unsupported. */
export function planVolume(volume: V1Volume, sources: VolumeSources): VolumePlan {
  const source = (kind: 'secret' | 'configMap', name: string | undefined, optional: boolean | undefined) => {
    const data = name ? sources[kind](name) : undefined;
    if (!data && !optional)
      throw new VolumeError(`${kind} ${name ?? '(no name)'} of volume ${volume.name} not found`);
    return data ?? {};
  };
  if (volume.secret) {
    const s = volume.secret;
    const data = source('secret', s.secretName, s.optional);
    return {
      kind: 'files',
      files: selectKeys(data, s.items, s.defaultMode ?? 0o644, `Secret ${s.secretName}`, !!s.optional),
    };
  }
  if (volume.configMap) {
    const c = volume.configMap;
    const data = source('configMap', c.name, c.optional);
    return {
      kind: 'files',
      files: selectKeys(data, c.items, c.defaultMode ?? 0o644, `ConfigMap ${c.name}`, !!c.optional),
    };
  }
  if (volume.projected) {
    const defaultMode = volume.projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const projection of volume.projected.sources ?? []) {
      if (projection.secret) {
        const s = projection.secret;
        files.push(
          ...selectKeys(
            source('secret', s.name, s.optional),
            s.items,
            defaultMode,
            `Secret ${s.name}`,
            !!s.optional,
          ),
        );
      } else if (projection.configMap) {
        const c = projection.configMap;
        files.push(
          ...selectKeys(
            source('configMap', c.name, c.optional),
            c.items,
            defaultMode,
            `ConfigMap ${c.name}`,
            !!c.optional,
          ),
        );
      } else if (projection.serviceAccountToken) {
        // The one a pod gets without asking: the ServiceAccount admission plugin adds it.
        throw new VolumeError(
          `volume ${volume.name}: serviceAccountToken projections are not supported; set automountServiceAccountToken: false on the pod or its ServiceAccount`,
        );
      } else {
        throw new VolumeError(`volume ${volume.name}: only Secret and ConfigMap projections are supported`);
      }
    }
    return { kind: 'files', files };
  }
  if (volume.emptyDir) return { kind: 'emptyDir' };
  if (volume.persistentVolumeClaim)
    return { kind: 'claim', claimName: volume.persistentVolumeClaim.claimName };
  throw new VolumeError(
    `volume ${volume.name}: only secret, configMap, projected, emptyDir and persistentVolumeClaim are supported`,
  );
}

/**
 * Why a pod cannot mount claim `name` yet, in the kubelet's words; undefined when it can. A claim being
 * deleted still names the volume its old pod used: a new pod of the same name (a StatefulSet's) waits for the
 * claim made in its place rather than start on the old volume's data.
 */
export function claimNotMountable(
  namespace: string,
  name: string,
  claim: V1PersistentVolumeClaim | undefined,
): string | undefined {
  if (claim?.metadata?.deletionTimestamp)
    return `can't start pod because PVC ${namespace}/${name} is being deleted`;
  return undefined;
}

/** The claims a pod mounts, as namespace/name. */
function claimsOf(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((volume) =>
    volume.persistentVolumeClaim
      ? [`${pod.metadata?.namespace ?? 'default'}/${volume.persistentVolumeClaim.claimName}`]
      : [],
  );
}

/** Whether two pods mount a claim in common: the same data, which one process at a time may hold. */
export function sharesClaim(a: V1Pod, b: V1Pod): boolean {
  const claims = claimsOf(a);
  return claims.length > 0 && claimsOf(b).some((claim) => claims.includes(claim));
}

/** Where the runtime keeps a pod's volumes and the claims' data. */
export interface VolumeLayout {
  /** The pod's own directory (gone with the pod). */
  readonly podDir: string;
  /** Claims' data when a claim is bound to no hostPath volume: `<claimsDir>/<namespace>/<claim>`. */
  readonly claimsDir: string;
}

/** Writes every volume of `pod`; returns the local directory of each volume by name. */
export function materializeVolumes(
  pod: V1Pod,
  sources: VolumeSources,
  layout: VolumeLayout,
): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const plan = planVolume(volume, sources);
    let dir: string;
    if (plan.kind === 'claim') {
      dir =
        sources.claimHostPath?.(plan.claimName) ??
        join(layout.claimsDir, pod.metadata?.namespace ?? 'default', plan.claimName);
    } else {
      dir = join(layout.podDir, 'volumes', volume.name);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (plan.kind === 'files') {
      for (const file of plan.files) {
        const target = normalize(join(dir, file.path));
        if (!target.startsWith(`${dir}/`))
          throw new VolumeError(`volume ${volume.name}: path ${file.path} escapes the volume`);
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, file.content);
        chmodSync(target, file.mode);
      }
    }
    dirs.set(volume.name, dir);
  }
  return dirs;
}

/**
 * Contents of Machine files given by `secretRef` / `configMapRef`. Each
 * referenced object is watched on its own (namespace + `metadata.name` field
 * selector), so the agent needs read access to exactly those objects and a
 * change reaches the host at once, not at the next resync.
 */
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Machine } from '@kok/api';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes, Informer } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { FileSourceResult } from './desired-state.ts';

type FileSpec = NonNullable<Machine['spec']['files']>[number];
type SourceKind = 'Secret' | 'ConfigMap';
type SourceObject = V1Secret | V1ConfigMap;

interface Reference {
  readonly kind: SourceKind;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

export function referenceOf(file: FileSpec): Reference | undefined {
  if (file.secretRef) return { kind: 'Secret', ...file.secretRef };
  if (file.configMapRef) return { kind: 'ConfigMap', ...file.configMapRef };
  return undefined;
}

function objectKey(ref: Pick<Reference, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The key's content from an object (or why there is none). Pure. */
export function contentOf(
  file: FileSpec,
  ref: Reference,
  object: SourceObject | undefined,
  synced: boolean,
): FileSourceResult {
  const where = `${ref.kind} ${ref.namespace}/${ref.name}`;
  if (!synced)
    return {
      reason: 'FileSourceUnavailable',
      message: `file ${file.path}: ${where} could not be read yet (missing RBAC? see deploy/rbac.yaml)`,
    };
  if (!object) return { reason: 'FileSourceNotFound', message: `file ${file.path}: ${where} does not exist` };
  if (ref.kind === 'Secret') {
    const encoded = (object as V1Secret).data?.[ref.key];
    if (encoded !== undefined) return { content: Buffer.from(encoded, 'base64').toString('utf8') };
  } else {
    const map = object as V1ConfigMap;
    const text = map.data?.[ref.key];
    if (text !== undefined) return { content: text };
    const binary = map.binaryData?.[ref.key];
    if (binary !== undefined) return { content: Buffer.from(binary, 'base64').toString('utf8') };
  }
  return {
    reason: 'FileSourceKeyNotFound',
    message: `file ${file.path}: ${where} has no key "${ref.key}"`,
  };
}

export class FileSources {
  readonly #client: KubeClient;
  readonly #onChange: () => void;
  readonly #logger: Logger;
  readonly #watches = new Map<string, Informer<SourceObject>>();

  constructor(client: KubeClient, onChange: () => void, logger: Logger) {
    this.#client = client;
    this.#onChange = onChange;
    this.#logger = logger;
  }

  /**
   * Watches exactly the objects `files` refer to (stopping the others) and
   * waits up to `waitMs` for new watches to sync, so a first pass does not
   * report a file missing that is merely not read yet.
   */
  async track(files: readonly FileSpec[], waitMs = 5000): Promise<void> {
    const wanted = new Map<string, Reference>();
    for (const file of files) {
      const ref = referenceOf(file);
      if (ref) wanted.set(objectKey(ref), ref);
    }
    for (const [key, informer] of this.#watches)
      if (!wanted.has(key)) {
        this.#watches.delete(key);
        void informer.stop();
      }
    const started: Informer<SourceObject>[] = [];
    for (const [key, ref] of wanted) {
      if (this.#watches.has(key)) continue;
      const informer = new Informer<SourceObject>({
        client: this.#client,
        type: (ref.kind === 'Secret' ? builtinTypes.secret : builtinTypes.configMap) as never,
        namespace: ref.namespace,
        fieldSelector: `metadata.name=${ref.name}`,
        logger: this.#logger,
      });
      const kick = () => this.#onChange();
      informer.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
      informer.start();
      this.#watches.set(key, informer);
      started.push(informer);
    }
    if (started.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(started.map((i) => i.waitForSync())),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  lookup(file: FileSpec): FileSourceResult {
    const ref = referenceOf(file);
    if (!ref) return { reason: 'FileSourceMissing', message: `file ${file.path} has no content` };
    const informer = this.#watches.get(objectKey(ref));
    return contentOf(file, ref, informer?.getByName(ref.namespace, ref.name), informer?.hasSynced() ?? false);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#watches.values()].map((i) => i.stop()));
    this.#watches.clear();
  }
}

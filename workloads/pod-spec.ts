/** Pod templates: reading and mapping a workload's pod spec, its images, MongoDB placement. */
import { IMAGE_REPOSITORIES, type ImageKey, imageRepository } from '../core/inventory/images.js';
import type { K8sObject } from './objects.js';
import { ARMV82_LABEL } from './labels.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  env?: EnvVar[];
  [key: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  affinity?: unknown;
  [key: string]: unknown;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/** The pod spec of a workload object, or undefined for other kinds. */
export function podSpecOf(o: K8sObject): PodSpec | undefined {
  if (!WORKLOAD_KINDS.has(o.kind)) return undefined;
  return (o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec ?? undefined;
}

export function mapPodSpec(o: K8sObject, f: (spec: PodSpec) => PodSpec): K8sObject {
  const spec = o.spec as { template: { spec: PodSpec } };
  return { ...o, spec: { ...spec, template: { ...spec.template, spec: f(spec.template.spec) } } };
}

export function mapContainers(o: K8sObject, f: (c: Container) => Container): K8sObject {
  return mapPodSpec(o, (ps) => ({
    ...ps,
    containers: ps.containers.map(f),
    ...(ps.initContainers ? { initContainers: ps.initContainers.map(f) } : {}),
  }));
}

const KEY_BY_REPOSITORY = new Map<string, ImageKey>((Object.entries(IMAGE_REPOSITORIES) as [ImageKey, string][]).map(([k, repo]) => [repo, k]));

/**
 * The image key a bundled image field names: an untagged repository (revue-pi's own YAML), or the pinned reference
 * itself (a vendored upstream manifest, whose declared image patch already set it; see workloads/patches.ts).
 */
function imageKeyOf(image: string, where: string, images: Record<ImageKey, string>): ImageKey {
  const pinned = (Object.keys(images) as ImageKey[]).find((k) => images[k] === image);
  if (pinned) return pinned;
  const key = KEY_BY_REPOSITORY.get(image);
  if (!key || imageRepository(image) !== image) {
    throw new Error(`${where}: bundled image "${image}" must be an untagged repository listed in core/inventory/images.ts`);
  }
  return key;
}

/**
 * Replaces each bundled image (repository only) with its pinned reference (a vendored one keeps the reference its
 * image patch set), sets IfNotPresent, and keeps MongoDB pods on nodes labelled ARMV82_LABEL=true.
 */
export function resolvePodImages(o: K8sObject, images: Record<ImageKey, string>): K8sObject {
  if (!podSpecOf(o)) return o;
  const where = `${o.kind} ${o.metadata.name}`;
  let usesMongo = false;
  let r = mapContainers(o, (c) => {
    const key = imageKeyOf(c.image, where, images);
    if (key === 'mongo') usesMongo = true;
    return { ...c, image: images[key], imagePullPolicy: 'IfNotPresent' };
  });
  if (usesMongo) {
    r = mapPodSpec(r, (ps) => ({
      ...ps,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: ARMV82_LABEL, operator: 'In', values: ['true'] }] }],
          },
        },
      },
    }));
  }
  return r;
}

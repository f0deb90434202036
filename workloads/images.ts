import { RevuePiError } from '../provision/errors.js';
import type { Inventory } from '../provision/inventory/schema.js';

/**
 * Every container image and Helm chart the bundled workloads use, pinned in this one place.
 * The YAML files under workloads/ name images by repository only (no tag); render.ts fills in the
 * reference from here, so a tag is never written twice. The inventory may override any entry
 * (`workloads.images.<key>: full reference`) or the Revue release for all Revue images (`workloads.revueVersion`).
 */

/** The Revue release deployed by default: the newest release tag upstream (v3.1.14), as semantic-release tags images. */
export const DEFAULT_REVUE_VERSION = '3.1.14';

export const REVUE_SERVICES = [
  'alarm',
  'auth',
  'device',
  'frontend',
  'location',
  'log',
  'monitoring',
  'notification',
  'recognition',
  'user',
] as const;
export type RevueService = (typeof REVUE_SERVICES)[number];

/** Image key → repository (without tag). The key is what `workloads.images` in the inventory uses. */
export const IMAGE_REPOSITORIES = {
  ...(Object.fromEntries(REVUE_SERVICES.map((s) => [`revue-${s}`, `letsdothisshared/revue-${s}`])) as Record<
    `revue-${RevueService}`,
    string
  >),
  /** 7.0.x: runs on the Pi 5 (ARMv8.2-A); some 8.0.x builds crashed there. */
  mongo: 'mongo',
  /**
   * Bitnami's free catalogue moved its versioned tags to `bitnamilegacy` in 2025. Kafka 3.9 is the last line that
   * still runs with ZooKeeper, which Revue's layout (two ZooKeepers, two brokers) relies on.
   */
  kafka: 'bitnamilegacy/kafka',
  zookeeper: 'bitnamilegacy/zookeeper',
  'kafka-ui': 'provectuslabs/kafka-ui',
  'media-server': 'bluenviron/mediamtx',
  'metallb-controller': 'quay.io/metallb/controller',
  'metallb-speaker': 'quay.io/metallb/speaker',
} as const;
export type ImageKey = keyof typeof IMAGE_REPOSITORIES;

const DEFAULT_TAGS: Record<Exclude<ImageKey, `revue-${RevueService}`>, string> = {
  mongo: '7.0.14',
  kafka: '3.9.0-debian-12-r12',
  zookeeper: '3.9.3-debian-12-r22',
  'kafka-ui': 'v0.7.2',
  'media-server': '1.9.3',
  'metallb-controller': 'v0.16.1',
  'metallb-speaker': 'v0.16.1',
};

/** Helm charts installed through K3s's helm-controller, pinned to a version of their current repositories. */
export const CHARTS = {
  prometheus: { repo: 'https://prometheus-community.github.io/helm-charts', chart: 'prometheus', version: '29.44.1' },
  grafana: { repo: 'https://grafana-community.github.io/helm-charts', chart: 'grafana', version: '12.3.1' },
} as const;
export type ChartKey = keyof typeof CHARTS;

export const METALLB_VERSION = 'v0.16.1';

export function isImageKey(key: string): key is ImageKey {
  return Object.prototype.hasOwnProperty.call(IMAGE_REPOSITORIES, key);
}

/** The pinned references, key → `repository:tag`, after the inventory's overrides. Pure. */
export function resolveImages(workloads: Pick<Inventory['workloads'], 'images' | 'revueVersion'>): Record<ImageKey, string> {
  const revueTag = (workloads.revueVersion ?? DEFAULT_REVUE_VERSION).replace(/^v(?=\d)/, '');
  const out = {} as Record<ImageKey, string>;
  for (const key of Object.keys(IMAGE_REPOSITORIES) as ImageKey[]) {
    const tag = key.startsWith('revue-') ? revueTag : DEFAULT_TAGS[key as keyof typeof DEFAULT_TAGS];
    out[key] = `${IMAGE_REPOSITORIES[key]}:${tag}`;
  }
  for (const [key, ref] of Object.entries(workloads.images ?? {})) {
    if (!isImageKey(key)) {
      throw new RevuePiError(`The inventory field workloads.images.${key} names no image the workloads use.`, {
        code: 'INVENTORY',
        hint: `Use one of: ${Object.keys(IMAGE_REPOSITORIES).join(', ')}.`,
      });
    }
    if (!hasPinnedTag(ref)) {
      throw new RevuePiError(
        `The inventory field workloads.images.${key} (${ref}) must name a fixed tag or digest, not latest or none.`,
        { code: 'INVENTORY', hint: `Write it as repository:tag, e.g. ${IMAGE_REPOSITORIES[key]}:1.2.3.` },
      );
    }
    out[key] = ref;
  }
  return out;
}

/** True when a reference carries a digest or a tag other than `latest`. */
export function hasPinnedTag(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  if (colon < 0) return false;
  const tag = ref.slice(colon + 1);
  return tag !== '' && tag !== 'latest';
}

/** The repository part of a reference (registry host and path, without tag or digest). */
export function imageRepository(ref: string): string {
  const noDigest = ref.split('@')[0] ?? ref;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? noDigest : noDigest.slice(0, colon);
}

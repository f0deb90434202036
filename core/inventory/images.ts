import { RevuePiError } from '../errors.js';
import type { Inventory } from './schema.js';

/**
 * Every container image and Helm chart the bundled workloads use, pinned in this one place.
 * The YAML files under workloads/ name images by repository only (no tag); render.ts fills in the
 * reference from here, so a tag is never written twice. The inventory may override any entry
 * (`workloads.images.<key>: full reference`) or the Revue release for all Revue images (`workloads.revueVersion`).
 */

/** The Revue release deployed by default: the newest release tag upstream (v3.1.14), as semantic-release tags images. */
export const DEFAULT_REVUE_VERSION = '3.1.14';

export const REVUE_SERVICES = ['alarm', 'auth', 'device', 'frontend', 'location', 'log', 'monitoring', 'notification', 'recognition', 'user'] as const;
export type RevueService = (typeof REVUE_SERVICES)[number];

/** Image key → repository (without tag). The key is what `workloads.images` in the inventory uses. */
export const IMAGE_REPOSITORIES = {
  ...(Object.fromEntries(REVUE_SERVICES.map((s) => [`revue-${s}`, `letsdothisshared/revue-${s}`])) as Record<`revue-${RevueService}`, string>),
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
  prometheus: { repo: 'https://prometheus-community.github.io/helm-charts', chart: 'prometheus', version: '29.27.0' },
  grafana: { repo: 'https://grafana-community.github.io/helm-charts', chart: 'grafana', version: '12.3.1' },
} as const;
export type ChartKey = keyof typeof CHARTS;

/**
 * Where each pin was checked against its upstream, and what could not be checked here. No container registry can be
 * reached from where revue-pi is developed, so no pushed image manifest was ever seen: "exists" is the upstream
 * source that publishes the tag (its build or release files at that tag), and "arm64" where a linux/arm64 build of
 * it is declared. A pin without an entry fails test/unit/core/inventory/images.test.ts.
 */
export interface PinEvidence {
  /** Repository, path and tag/commit (or URL) that show the version exists. */
  exists: string[];
  /** linux/arm64 (Raspberry Pi 5): where a build for it is declared, or why that is not known. */
  arm64: string;
  /** What was not verified here; absent when nothing is left but the registry itself. */
  unverified?: string;
  /** Anything else a maintainer moving the pin should know. */
  note?: string;
}

export const PIN_EVIDENCE: Record<Exclude<ImageKey, `revue-${RevueService}`> | 'revue' | ChartKey, PinEvidence> = {
  revue: {
    exists: [
      'revue-org/revue tag v3.1.14 (commit b051810b, "chore(release): 3.1.14"): .github/workflows/CI-CD.yml, job docker, pushes letsdothisshared/revue-<service>:<semantic-release version> (no "v") for all ten services',
    ],
    arm64: 'revue-org/revue v3.1.14 .github/workflows/CI-CD.yml: docker/build-push-action with platforms linux/amd64,linux/arm64',
    unverified: 'that the v3.1.14 release run pushed every image (Docker Hub not reachable here)',
  },
  mongo: {
    exists: ['docker-library/mongo commit c738ec82e "Update 7.0 to 7.0.14" (2024-08-26): versions.json 7.0 → 7.0.14, linux variant ubuntu2204 (jammy)'],
    arm64: 'the same versions.json: ubuntu2204 arches amd64, arm64v8 (MongoDB 5+ needs ARMv8.2-A: Pi 5 yes, Pi 4 no)',
    note: 'newer 7.0 patches exist (7.0.37 in docker-library/mongo main, 2026-06); not moved here',
  },
  kafka: {
    exists: [],
    arm64: 'not verified here (Bitnami builds debian-12 images for amd64 and arm64, by third-party reports only)',
    unverified:
      'tag and bitnamilegacy copy: bitnami/containers (the source) is too large to fetch here; only third-party references (e.g. bitnami/kafka chart 31.5.0 defaults, bitnamilegacy/* mirrors) were found',
  },
  zookeeper: {
    exists: [],
    arm64: 'not verified here (as kafka)',
    unverified: 'tag and bitnamilegacy copy: as kafka, third-party references to bitnamilegacy/zookeeper:3.9.3-debian-12-r22 only',
  },
  'kafka-ui': {
    exists: [
      'provectus/kafka-ui-charts tag charts/kafka-ui-0.7.6: charts/kafka-ui/Chart.yaml appVersion v0.7.2, values.yaml image provectuslabs/kafka-ui (tag defaults to appVersion)',
    ],
    arm64:
      'provectus/kafka-ui .github/workflows/master.yaml (stored version 119c7d0) builds linux/amd64,linux/arm64; the release workflow at v0.7.2 was not read',
    unverified: 'the release workflow of provectus/kafka-ui at v0.7.2 (repository too large to fetch here)',
  },
  'media-server': {
    exists: ['bluenviron/mediamtx tag v1.9.3 (commit 6cd74878): scripts/dockerhub.mk pushes bluenviron/mediamtx:$(git describe | tr -d v) = 1.9.3'],
    arm64: 'the same scripts/dockerhub.mk: platforms linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8',
  },
  'metallb-controller': {
    exists: ['metallb/metallb tag v0.16.1: config/manifests/metallb-native.yaml names quay.io/metallb/controller:v0.16.1'],
    arm64: 'metallb/metallb v0.16.1 tasks.py: all_architectures includes arm64',
  },
  'metallb-speaker': {
    exists: ['metallb/metallb tag v0.16.1: config/manifests/metallb-native.yaml names quay.io/metallb/speaker:v0.16.1'],
    arm64: 'metallb/metallb v0.16.1 tasks.py: all_architectures includes arm64',
  },
  prometheus: {
    exists: [
      'prometheus-community/helm-charts tag prometheus-29.27.0 (2026-08-18): charts/prometheus/Chart.yaml version 29.27.0, appVersion v3.14.0; the repository URL from its README ("helm repo add prometheus-community …")',
    ],
    arm64:
      "the chart's default images (quay.io/prometheus, registry.k8s.io/kube-state-metrics, quay.io node-exporter, configmap-reload) are not pinned by revue-pi; their arm64 builds were not checked here",
    note: 'the earlier pin 29.44.1 does not exist upstream (newest tag on 2026-08-22: prometheus-29.27.0)',
  },
  grafana: {
    exists: [
      'grafana-community/helm-charts tag grafana-12.3.1 (2026-05-12): charts/grafana/Chart.yaml version 12.3.1, appVersion 13.0.1; repository URL from its README',
    ],
    arm64: "the chart's default image docker.io/grafana/grafana:13.0.1 is not pinned by revue-pi; its arm64 build was not checked here",
    note: 'newer chart versions exist (12.11.1 on 2026-08-20); not moved here',
  },
};

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
      throw new RevuePiError(`The inventory field workloads.images.${key} (${ref}) must name a fixed tag or digest, not latest or none.`, {
        code: 'INVENTORY',
        hint: `Write it as repository:tag, e.g. ${IMAGE_REPOSITORIES[key]}:1.2.3.`,
      });
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

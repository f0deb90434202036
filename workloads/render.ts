import yaml from 'js-yaml';
import { RevuePiError } from '../core/errors.js';
import type { Inventory } from '../core/inventory/schema.js';
import { CHARTS, resolveImages } from '../core/inventory/images.js';
import { applyPatches, loadPatches } from './patches.js';
import { type WorkloadSecrets } from './secrets.js';
import type { K8sObject } from './objects.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PHASE_LABEL, type Phase, FIXED_IP_ANNOTATION, RESERVED_NAMESPACES } from './labels.js';
import { packageRoot, loadManifestFile } from './manifests.js';
import { mapContainers, resolvePodImages } from './pod-spec.js';
import { renderRevueSecrets, renderGrafanaSecret } from './render-secrets.js';
import { sortObjects, dumpValues } from './synth-yaml.js';
import { renderMetallbPools } from './metallb-pools.js';

/**
 * Pure rendering of everything `up` applies after the cluster exists: the YAML data files under workloads/
 * (parsed, never text-templated) with typed transforms from the inventory. No cluster, no network, no writes:
 * the only I/O is reading the bundled data files. `synthYaml` and `renderToDirectory` (output.ts) turn the result
 * into bytes.
 */

export type { K8sObject } from './objects.js';

/** Rendering's parts live in files of their own (labels, manifests, pod-spec, render-secrets, metallb-pools, synth-yaml); re-exported so callers keep one entry point. */
export {
  ARMV82_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PHASE_LABEL,
  PHASES,
  type Phase,
  METALLB_NAMESPACE,
  MONITORING_NAMESPACE,
  BUNDLED_DOMAIN,
  FIXED_IP_ANNOTATION,
  RESERVED_NAMESPACES,
} from './labels.js';
export { packageRoot, loadManifestFile } from './manifests.js';
export { podSpecOf } from './pod-spec.js';
export { renderRevueSecrets, renderGrafanaSecret } from './render-secrets.js';
export { FIXED_POOL_NAME, renderMetallbPools, subtractAddresses } from './metallb-pools.js';
export { sortObjects, objectsOfPhase, dropNulls, canonicalJson, synthYaml } from './synth-yaml.js';

/** Capacity facts of one node (from the node facts), used by checks.ts. */
export interface NodeCapacity {
  name: string;
  cpuCores: number;
  memoryBytes: number;
  role?: 'server' | 'agent';
  /** ARMv8.2-A or newer (can run MongoDB ≥5). */
  armv82?: boolean;
}

export interface RenderOptions {
  /** The cluster's secrets (rendered as Secrets), or 'references': Secrets omitted, workloads still reference them. */
  secrets: WorkloadSecrets | 'references';
  /** Node facts; not needed to render (checks.ts uses them), accepted so callers can pass one options object. */
  nodes?: NodeCapacity[];
  /** Package root holding workloads/ (default: found from this module's location). */
  root?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The render

/** MetalLB's release manifest as published (workloads/metallb/upstream, byte for byte) and revue-pi's declared changes. */
export const METALLB_MANIFEST = 'metallb/upstream/metallb-native.yaml';
export const METALLB_PATCHES = 'metallb/patches.yaml';

const REVUE_FILES = [
  'namespace.yaml',
  'alarm.yaml',
  'auth.yaml',
  'device.yaml',
  'frontend.yaml',
  'location.yaml',
  'log.yaml',
  'monitoring.yaml',
  'notification.yaml',
  'recognition.yaml',
  'user.yaml',
  'kafka.yaml',
  'media-server.yaml',
  'ingressroutes.yaml',
];

/**
 * Everything `up` applies for the inventory's workloads, in a stable order (see sortObjects). Pure apart from reading
 * the bundled data files. Throws RevuePiError for inventory values it cannot use (unknown image key, unpinned image).
 */
export function renderWorkloads(inventory: Inventory, opts: RenderOptions): K8sObject[] {
  const root = opts.root ?? packageRoot();
  const images = resolveImages(inventory.workloads);
  const w = inventory.workloads;
  const addresses = inventory.network.addresses;
  const domain = inventory.cluster.domain;
  if (w.revue && RESERVED_NAMESPACES.includes(w.namespace)) {
    throw new RevuePiError(`The inventory field workloads.namespace (${w.namespace}) names a namespace revue-pi uses for something else.`, {
      code: 'INVENTORY',
      hint: `Choose another name (not ${RESERVED_NAMESPACES.join(', ')}); the default is revue.`,
    });
  }
  const out: K8sObject[] = [];
  const add = (phase: Phase, objects: K8sObject[]) => {
    for (const o of objects) out.push(withLabels(o, phase));
  };

  if (inventory.network.metallb.enabled) {
    add('metallb', applyPatches(loadManifestFile(METALLB_MANIFEST, root), loadPatches(METALLB_PATCHES, root), images));
    add('metallb-config', renderMetallbPools(inventory));
  }

  add(
    'traefik',
    loadManifestFile('traefik/helmchartconfig.yaml', root).map((o) => renderTraefikConfig(o, addresses.ingress, domain)),
  );

  if (w.monitoring) {
    const objects = [
      ...loadManifestFile('monitoring/namespace.yaml', root),
      ...loadManifestFile('monitoring/prometheus.yaml', root),
      ...loadManifestFile('monitoring/grafana.yaml', root),
      ...loadManifestFile('monitoring/ingressroutes.yaml', root),
    ].map((o) => pinChart(retargetRoutes(o, domain)));
    if (opts.secrets !== 'references') objects.push(renderGrafanaSecret(opts.secrets));
    add('monitoring', objects);
  }

  if (w.revue) {
    const files = w.kafkaUi ? [...REVUE_FILES, 'kafka-ui.yaml'] : REVUE_FILES;
    let objects = files.flatMap((f) => loadManifestFile(`revue/${f}`, root));
    if (opts.secrets !== 'references') objects.push(...renderRevueSecrets(opts.secrets));
    objects = objects.map((o) => {
      let r = inNamespace(o, w.namespace);
      r = retargetRoutes(r, domain);
      r = pinFixedAddress(r, addresses);
      r = setKafkaExternalAddress(r, addresses.kafka);
      r = setMediaServerHosts(r, [...w.mediaServerHosts, ...(addresses.mediaServer ? [addresses.mediaServer] : [])]);
      return r;
    });
    add('revue', objects);
  }

  return sortObjects(out.map((o) => resolvePodImages(o, images)));
}

function renderTraefikConfig(o: K8sObject, ingressAddress: string | undefined, domain: string): K8sObject {
  if (o.kind !== 'HelmChartConfig') return o;
  const spec = o.spec as { valuesContent: string };
  const values = (yaml.load(spec.valuesContent) ?? {}) as {
    service?: { annotations?: Record<string, string> };
    ingressRoute?: { dashboard?: { matchRule?: string } };
  };
  values.service ??= {};
  values.service.annotations ??= {};
  if (ingressAddress) values.service.annotations[FIXED_IP_ANNOTATION] = ingressAddress;
  else delete values.service.annotations[FIXED_IP_ANNOTATION];
  if (Object.keys(values.service.annotations).length === 0) delete values.service.annotations;
  if (Object.keys(values.service).length === 0) delete values.service;
  if (values.ingressRoute?.dashboard) values.ingressRoute.dashboard.matchRule = `Host(\`${hostFor('traefik', domain)}\`)`;
  return { ...o, spec: { ...spec, valuesContent: dumpValues(values) } };
}

/** HelmChart: repo and version from core/inventory/images.ts (CHARTS), so versions live in one place. */
function pinChart(o: K8sObject): K8sObject {
  if (o.kind !== 'HelmChart') return o;
  const spec = o.spec as { chart: string };
  const pinned = Object.values(CHARTS).find((c) => c.chart === spec.chart);
  if (!pinned) throw new Error(`HelmChart ${o.metadata.name} uses chart ${spec.chart}, which images.ts does not pin`);
  return { ...o, spec: { ...spec, repo: pinned.repo, version: pinned.version } };
}

/** `<service>.<domain>`, the host name of a routed service. */
export function hostFor(service: string, domain: string): string {
  return `${service}.${domain}`;
}

const BUNDLED_HOST = /Host\(`([a-z0-9-]+)\.revue\.local`\)/g;

function retargetRoutes(o: K8sObject, domain: string): K8sObject {
  if (o.kind !== 'IngressRoute') return o;
  const spec = o.spec as { routes: { match: string }[] };
  const routes = spec.routes.map((r) => ({ ...r, match: r.match.replace(BUNDLED_HOST, (_m, svc: string) => `Host(\`${hostFor(svc, domain)}\`)`) }));
  return { ...o, spec: { ...spec, routes } };
}

function inNamespace(o: K8sObject, namespace: string): K8sObject {
  if (o.kind === 'Namespace') return { ...o, metadata: { ...o.metadata, name: namespace } };
  return { ...o, metadata: { ...o.metadata, namespace } };
}

function pinFixedAddress(o: K8sObject, addresses: Inventory['network']['addresses']): K8sObject {
  if (o.kind !== 'Service') return o;
  const fixed: Record<string, string | undefined> = {
    'revue-media-server': addresses.mediaServer,
    'revue-kafka-1': addresses.kafka?.[0],
    'revue-kafka-2': addresses.kafka?.[1],
  };
  const ip = fixed[o.metadata.name];
  if (!ip) return o;
  return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [FIXED_IP_ANNOTATION]: ip } } };
}

/** The EXTERNAL listener advertises the broker's fixed LAN address, so clients outside the cluster can reach it. */
function setKafkaExternalAddress(o: K8sObject, kafka: string[] | undefined): K8sObject {
  const match = /^revue-kafka-([12])$/.exec(o.metadata.name);
  if (o.kind !== 'Deployment' || !match) return o;
  const address = kafka?.[Number(match[1]) - 1];
  if (!address) return o;
  return mapContainers(o, (c) => ({
    ...c,
    env: c.env?.map((e) =>
      e.name === 'KAFKA_CFG_ADVERTISED_LISTENERS' && typeof e.value === 'string'
        ? { ...e, value: e.value.replace(/EXTERNAL:\/\/[^:,]+:/, `EXTERNAL://${address}:`) }
        : e,
    ),
  }));
}

function setMediaServerHosts(o: K8sObject, hosts: string[]): K8sObject {
  if (o.kind !== 'Deployment' || o.metadata.name !== 'revue-media-server') return o;
  const unique = [...new Set(['revue-media-server', ...hosts])];
  return mapContainers(o, (c) => ({
    ...c,
    env: c.env?.map((e) => (e.name === 'MTX_WEBRTCADDITIONALHOSTS' ? { ...e, value: unique.join(',') } : e)),
  }));
}

function withLabels(o: K8sObject, phase: Phase): K8sObject {
  return {
    ...o,
    metadata: { ...o.metadata, labels: { ...o.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PHASE_LABEL]: phase } },
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { RevuePiError } from '../core/errors.js';
import { type AddressBlock, formatAddressBlock, parseAddressBlock, parseIPv4 } from '../core/inventory/addresses.js';
import type { Inventory } from '../core/inventory/schema.js';
import { CHARTS, IMAGE_REPOSITORIES, type ImageKey, imageRepository, resolveImages } from '../core/inventory/images.js';
import { applyPatches, loadPatches } from './patches.js';
import { GRAFANA_ADMIN, MONGO_SERVICES, SECRET_NAMES, type WorkloadSecrets } from './secrets.js';

/**
 * Pure rendering of everything `up` applies after the cluster exists: the YAML data files under workloads/
 * (parsed, never text-templated) with typed transforms from the inventory. No cluster, no network, no writes:
 * the only I/O is reading the bundled data files. `synthYaml` and `renderToDirectory` (output.ts) turn the result
 * into bytes.
 */

import type { K8sObject } from './objects.js';

export type { K8sObject } from './objects.js';

/** Node label the cluster step sets to "true" on nodes whose CPU is ARMv8.2-A or newer (Pi 5, not Pi 4). MongoDB needs it. */
export const ARMV82_LABEL = 'revue-pi.io/armv82';
/** On every rendered object: what made it (pruning selects on it). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'revue-pi';
/** On every rendered object: the apply phase it belongs to. */
export const PHASE_LABEL = 'revue-pi.io/phase';
/**
 * Apply order. `metallb` (CRDs, controller, speaker, webhook) must be ready before `metallb-config` (pools; retry
 * through the webhook race), then Traefik's config, monitoring, Revue.
 */
export const PHASES = ['metallb', 'metallb-config', 'traefik', 'monitoring', 'revue'] as const;
export type Phase = (typeof PHASES)[number];

export const METALLB_NAMESPACE = 'metallb-system';
export const MONITORING_NAMESPACE = 'monitoring';
/** The domain written in the bundled routes; replaced by inventory cluster.domain. */
export const BUNDLED_DOMAIN = 'revue.local';
export const FIXED_IP_ANNOTATION = 'metallb.io/loadBalancerIPs';
/** Namespaces the Revue namespace must not be (they hold other bundles or the cluster's own components). */
export const RESERVED_NAMESPACES = [METALLB_NAMESPACE, MONITORING_NAMESPACE, 'kube-system', 'kube-public', 'kube-node-lease', 'default'];

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
// Loading the data files

/**
 * The folder holding the package's package.json, found by walking up from `from` — works from the sources
 * (workloads/render.ts under vitest/tsx) and from the bundle (dist/revue-pi.js), which ships workloads/**.yaml.
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const name = (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name;
        if (name === 'revue-pi' && existsSync(join(dir, 'workloads'))) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new RevuePiError(`Could not find the revue-pi package (with its workloads/ folder) above ${from}.`, {
        code: 'INSTALL',
        hint: 'Reinstall revue-pi; the package must ship workloads/**/*.yaml next to dist/.',
      });
    }
    dir = parent;
  }
}

/** Parsed manifest files by path, with the text they were parsed from: a run renders twice (probe, then apply). */
const parsedManifests = new Map<string, { text: string; objects: K8sObject[] }>();

/** Parses one multi-document YAML data file under workloads/ (path relative to workloads/). */
export function loadManifestFile(relPath: string, root: string = packageRoot()): K8sObject[] {
  const file = join(root, 'workloads', relPath);
  const text = readFileSync(file, 'utf8');
  let parsed = parsedManifests.get(file);
  if (parsed?.text !== text) {
    const objects: K8sObject[] = [];
    for (const doc of yaml.loadAll(text)) {
      if (doc === null || doc === undefined) continue;
      if (!isK8sObject(doc)) throw new Error(`workloads/${relPath} holds a document that is not a Kubernetes object`);
      objects.push(doc);
    }
    parsed = { text, objects };
    parsedManifests.set(file, parsed);
  }
  // A copy each time: the render changes the objects it is given.
  return structuredClone(parsed.objects);
}

function isK8sObject(doc: unknown): doc is K8sObject {
  if (typeof doc !== 'object' || doc === null) return false;
  const o = doc as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof meta?.name === 'string';
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

/** Name of the generated pool that holds the fixed addresses (ingress, media server, Kafka brokers). */
export const FIXED_POOL_NAME = 'revue-pi-fixed';

/**
 * IPAddressPools and one L2Advertisement announcing all of them. The fixed addresses (network.addresses) are cut out
 * of the inventory's pools and put in a pool of their own with autoAssign off, so MetalLB never hands one of them to
 * another Service; the Services that own them ask for them with the metallb.io/loadBalancerIPs annotation.
 * (Upstream reserved them with one priority pool per address and service selectors; this needs no selectors.)
 */
export function renderMetallbPools(inventory: Inventory): K8sObject[] {
  const pools = inventory.network.metallb.pools;
  const { ingress, mediaServer, kafka } = inventory.network.addresses;
  const fixedFields: [string, string][] = [
    ...(ingress ? [['network.addresses.ingress', ingress] as [string, string]] : []),
    ...(mediaServer ? [['network.addresses.mediaServer', mediaServer] as [string, string]] : []),
    ...(kafka ?? []).map((k, i) => [`network.addresses.kafka[${i}]`, k] as [string, string]),
  ];
  const fixed = [
    ...new Set(
      fixedFields.map(([field, text]) => {
        const ip = parseIPv4(text.trim());
        if (ip === undefined) {
          throw new RevuePiError(`The inventory field ${field} (${text}) is not an IPv4 address.`, {
            code: 'INVENTORY',
            hint: 'Write a single address inside one of network.metallb.pools, e.g. 192.168.1.240.',
          });
        }
        return ip;
      }),
    ),
  ].sort((a, b) => a - b);

  const objects: K8sObject[] = [];
  pools.forEach((p, i) => {
    if (p.name === FIXED_POOL_NAME && fixed.length > 0) {
      throw new RevuePiError(`The inventory field network.metallb.pools[${i}].name uses the reserved name ${FIXED_POOL_NAME}.`, {
        code: 'INVENTORY',
        hint: 'Rename the pool; revue-pi puts the fixed addresses in a pool of that name.',
      });
    }
    const addresses = p.addresses.flatMap((text, j) => {
      const block = parseAddressBlock(text);
      if (!block) {
        throw new RevuePiError(`The inventory field network.metallb.pools[${i}].addresses[${j}] (${text}) is not a CIDR or range.`, {
          code: 'INVENTORY',
          hint: 'Write it like 192.168.1.240/28 or 192.168.1.200-192.168.1.220.',
        });
      }
      const rest = subtractAddresses(block, fixed);
      // Untouched entries keep the operator's spelling (a CIDR stays a CIDR).
      return rest.length === 1 && rest[0]!.first === block.first && rest[0]!.last === block.last ? [text.trim()] : rest.map(formatAddressBlock);
    });
    if (addresses.length === 0) return;
    objects.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: p.name, namespace: METALLB_NAMESPACE },
      spec: { addresses, autoAssign: true },
    });
  });
  if (fixed.length > 0) {
    objects.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: FIXED_POOL_NAME, namespace: METALLB_NAMESPACE },
      spec: { addresses: fixed.map((ip) => formatAddressBlock({ first: ip, last: ip })), autoAssign: false },
    });
  }
  if (objects.length === 0) return [];
  objects.push({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'revue-pi', namespace: METALLB_NAMESPACE },
    spec: { ipAddressPools: objects.map((o) => o.metadata.name) },
  });
  return objects;
}

/** The parts of `block` left after removing the (sorted) addresses `holes`. */
export function subtractAddresses(block: AddressBlock, holes: number[]): AddressBlock[] {
  const out: AddressBlock[] = [];
  let start = block.first;
  for (const h of holes) {
    if (h < start || h > block.last) continue;
    if (h > start) out.push({ first: start, last: h - 1 });
    start = h + 1;
  }
  if (start <= block.last) out.push({ first: start, last: block.last });
  return out;
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

// ---------------------------------------------------------------------------------------------------------------
// Pod templates: images, MongoDB placement

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

function mapPodSpec(o: K8sObject, f: (spec: PodSpec) => PodSpec): K8sObject {
  const spec = o.spec as { template: { spec: PodSpec } };
  return { ...o, spec: { ...spec, template: { ...spec.template, spec: f(spec.template.spec) } } };
}

function mapContainers(o: K8sObject, f: (c: Container) => Container): K8sObject {
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
function resolvePodImages(o: K8sObject, images: Record<ImageKey, string>): K8sObject {
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

// ---------------------------------------------------------------------------------------------------------------
// Secrets

function secret(name: string, namespace: string, data: Record<string, string>): K8sObject {
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, Buffer.from(data[k] ?? '', 'utf8').toString('base64')]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: encoded };
}

/** The Revue Secrets (namespace applied by the caller): app tokens and one MongoDB root password per database. */
export function renderRevueSecrets(secrets: WorkloadSecrets, namespace = 'revue'): K8sObject[] {
  return [
    secret(SECRET_NAMES.tokens, namespace, {
      DEV_API_KEY: secrets.devApiKey,
      JWT_SECRET: secrets.jwtSecret,
      JWT_REFRESH_SECRET: secrets.jwtRefreshSecret,
      ...secrets.bearerTokens,
    }),
    ...MONGO_SERVICES.map((s) => secret(SECRET_NAMES.database(s), namespace, { password: secrets.mongoRootPasswords[s] })),
  ];
}

export function renderGrafanaSecret(secrets: WorkloadSecrets): K8sObject {
  return secret(GRAFANA_ADMIN.secret, GRAFANA_ADMIN.namespace, {
    [GRAFANA_ADMIN.userKey]: GRAFANA_ADMIN.user,
    [GRAFANA_ADMIN.passwordKey]: secrets.grafanaAdminPassword,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Order and bytes

const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'DaemonSet',
  'StatefulSet',
  'HorizontalPodAutoscaler',
  'ValidatingWebhookConfiguration',
  'IPAddressPool',
  'L2Advertisement',
  'HelmChartConfig',
  'HelmChart',
  'IngressRoute',
];

function phaseOf(o: K8sObject): number {
  const p = o.metadata.labels?.[PHASE_LABEL];
  const i = PHASES.indexOf(p as Phase);
  return i < 0 ? PHASES.length : i;
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Stable order independent of input order: Namespaces, then CRDs, then by apply phase, kind, namespace, name.
 */
export function sortObjects(objects: K8sObject[]): K8sObject[] {
  const first = (o: K8sObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  return [...objects].sort(
    (a, b) =>
      first(a) - first(b) ||
      phaseOf(a) - phaseOf(b) ||
      kindRank(a.kind) - kindRank(b.kind) ||
      cmp(a.kind, b.kind) ||
      cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
      cmp(a.metadata.name, b.metadata.name),
  );
}

/** The objects of one apply phase, in order. */
export function objectsOfPhase(objects: K8sObject[], phase: Phase): K8sObject[] {
  return sortObjects(objects.filter((o) => o.metadata.labels?.[PHASE_LABEL] === phase));
}

const KEY_PRIORITY = ['apiVersion', 'kind', 'metadata', 'name', 'namespace'];

function keyOrder(a: string, b: string): number {
  const ia = KEY_PRIORITY.indexOf(a);
  const ib = KEY_PRIORITY.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? KEY_PRIORITY.length : ia) - (ib < 0 ? KEY_PRIORITY.length : ib);
  return cmp(a, b);
}

/** Drops null/undefined values everywhere (empty objects stay: `status: {}` means something in a CRD). */
export function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(dropNulls) as T;
  // Plain objects only: a Date (what js-yaml makes of a YAML timestamp) stays a Date.
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out as T;
  }
  return value;
}

const DUMP_OPTIONS: yaml.DumpOptions = { lineWidth: -1, noRefs: true, sortKeys: keyOrder, quotingType: '"' };

function dumpValues(values: unknown): string {
  return yaml.dump(dropNulls(values), DUMP_OPTIONS);
}

/**
 * One object as JSON that is the same for the same content: keys sorted at every level, nulls dropped (as in
 * synthYaml). Quicker to make than its YAML, for hashing.
 */
export function canonicalJson(object: K8sObject): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    // Plain objects only: a Date (a YAML timestamp) is left to JSON.stringify, which writes its ISO form.
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return JSON.stringify(sorted(dropNulls(object)));
}

/**
 * The objects as one multi-document YAML stream, byte-for-byte deterministic: sorted (sortObjects), keys sorted with
 * apiVersion/kind/metadata first, nulls dropped, no line wrapping.
 */
export function synthYaml(objects: K8sObject[]): string {
  return sortObjects(objects)
    .map((o) => yaml.dump(dropNulls(o), DUMP_OPTIONS))
    .join('---\n');
}

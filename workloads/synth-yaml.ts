/** Apply order and bytes: objects sorted by phase and kind, canonical JSON, and the synthesized YAML. */
import yaml from 'js-yaml';
import type { K8sObject } from './objects.js';
import { PHASE_LABEL, PHASES, type Phase } from './labels.js';

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

export function dumpValues(values: unknown): string {
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

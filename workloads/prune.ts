import { sh } from '../core/remote/shell.js';
import { type K8sObject, MANAGED_BY_LABEL, MANAGED_BY_VALUE, sortObjects } from './render.js';

/**
 * Pure planning of what a re-run removes: objects revue-pi applied earlier (they carry its managed-by label) that
 * the current render no longer contains — e.g. everything of monitoring after `workloads.monitoring: false`.
 * The apply code lists the live objects (with that label selector) and deletes what this returns, in order.
 */

/** The identity of an object in the cluster: API group, kind, namespace, name (the version does not matter). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  labels?: Record<string, string>;
}

export function refOf(o: K8sObject): ObjectRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    name: o.metadata.name,
    ...(o.metadata.labels ? { labels: o.metadata.labels } : {}),
  };
}

/** `group/Kind/namespace/name`; the same object under another API version has the same key. */
export function objectKey(ref: ObjectRef): string {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  return `${group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/**
 * The live objects to delete, in deletion order: the reverse of the apply order (routes and charts before the
 * workloads, workloads before their Secrets and ConfigMaps, namespaces and CRDs last). Objects without revue-pi's
 * label are never returned, whatever the caller passes.
 */
export function planPrune(live: ObjectRef[], desired: K8sObject[]): ObjectRef[] {
  const keep = new Set(desired.map((o) => objectKey(refOf(o))));
  const stale = live.filter((r) => r.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && !keep.has(objectKey(r)));
  const asObjects: K8sObject[] = stale.map((r) => ({
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), ...(r.labels ? { labels: r.labels } : {}) },
  }));
  return sortObjects(asObjects).reverse().map(refOf);
}

// ---- removals that lose data ----------------------------------------------------------------------------------

/**
 * Why deleting this object deletes data, or undefined when it does not: a PersistentVolumeClaim (local-path deletes
 * the volume with its claim), a Namespace (everything in it goes, claims included), a K3s HelmChart (the
 * helm-controller uninstalls the release, and a chart's own volume claims go with it: Prometheus' and Grafana's do).
 */
export function dataLostWith(ref: Pick<ObjectRef, 'apiVersion' | 'kind'>): string | undefined {
  if (ref.kind === 'PersistentVolumeClaim' && ref.apiVersion === 'v1') return 'its volume and the data on it are deleted with it';
  if (ref.kind === 'Namespace' && ref.apiVersion === 'v1') return 'everything in the namespace is deleted with it, volumes included';
  if (ref.kind === 'HelmChart' && ref.apiVersion.startsWith('helm.cattle.io/')) return "the chart is uninstalled, and its release's volumes with it";
  return undefined;
}

export interface PruneSplit {
  /** Removed without asking: nothing in them holds data. */
  remove: ObjectRef[];
  /**
   * Removed only with the operator's own consent (`up --prune-data`, or the cluster name typed at a terminal), else
   * kept: the objects that hold data, and the Secrets of the namespaces they are kept in (the credentials of that data).
   */
  data: ObjectRef[];
}

/** Splits planPrune's list, each part in the same (deletion) order. Pure. */
export function splitPrune(stale: ObjectRef[]): PruneSplit {
  const holders = stale.filter((r) => dataLostWith(r) !== undefined);
  const keptNamespaces = new Set(holders.map((r) => (r.kind === 'Namespace' ? r.name : r.namespace)).filter((n): n is string => n !== undefined));
  const isData = (r: ObjectRef) => holders.includes(r) || (r.kind === 'Secret' && r.namespace !== undefined && keptNamespaces.has(r.namespace));
  return { remove: stale.filter((r) => !isData(r)), data: stale.filter(isData) };
}

/** `Kind namespace/name — why` for the plan and the question. */
export function describeDataRemoval(ref: ObjectRef): string {
  const why = dataLostWith(ref) ?? 'the credentials of the data kept beside it';
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} (${why})`;
}

/**
 * The exact kubectl commands that delete kept data by hand, against the context `up` merged (named after the cluster):
 * one per namespace and kind, in deletion order (namespaces last). Pure.
 */
export function buildDeleteDataCommands(context: string, refs: ObjectRef[]): string[] {
  const groups = new Map<string, { namespace?: string; resource: string; names: string[] }>();
  for (const r of refs) {
    const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0]! : '';
    const resource = group ? `${r.kind.toLowerCase()}.${group}` : r.kind.toLowerCase();
    const key = `${r.namespace ?? ''}\0${resource}`;
    const g = groups.get(key) ?? { ...(r.namespace ? { namespace: r.namespace } : {}), resource, names: [] };
    g.names.push(r.name);
    groups.set(key, g);
  }
  return [...groups.values()].map(
    (g) =>
      (g.namespace
        ? sh`kubectl --context ${context} -n ${g.namespace} delete ${g.resource} ${g.names}`
        : sh`kubectl --context ${context} delete ${g.resource} ${g.names}`
      ).text,
  );
}

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

import { buildKubectlGetCommand, type KubeItem, type KubeQuery } from '../core/kube/index.js';
import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';
import { type ObjectRef } from './prune.js';
import { type K8sObject, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type Phase } from './render.js';

/**
 * Pure parts of applying the workloads: the `k3s kubectl …` commands run on the first server (through the transport,
 * sudo — the laptop never talks to the API) and the parsers of what they print. workloads/phase.ts and the files it calls run them.
 * Node labels are planned in label-plan.ts, readiness judged in readiness.ts and explained in diagnostics.ts, and the
 * Secrets already in the cluster read back in cluster-secrets.ts.
 * Works with real kubectl and with the lab's stand-in (test/lab/k3s-standin/), which prints the same lines.
 */

/** Root-only folder on the first server for the YAML of one apply (it holds Secrets; files 0600, removed after). */
export const REMOTE_APPLY_DIR = '/var/lib/rancher/revue-pi';

export function remoteApplyPath(phase: Phase): string {
  return `${REMOTE_APPLY_DIR}/apply-${phase}.yaml`;
}

/** Applies one uploaded file and removes it whatever the outcome (it holds Secrets). */
export function buildApplyCommand(remotePath: string): ShellScript {
  return sh`k3s kubectl apply -f ${remotePath}
rc=$?
rm -f ${remotePath}
exit $rc
`;
}

export function buildRemoveFileCommand(remotePath: string): ShellScript {
  return sh`rm -f ${remotePath}`;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyOutcome {
  /** `kind.group/name` as kubectl prints it. */
  object: string;
  action: ApplyAction;
}

/** `kubectl apply` lines (`deployment.apps/x created|configured|unchanged`); other lines are ignored. */
export function parseApplyOutput(stdout: string): ApplyOutcome[] {
  const out: ApplyOutcome[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+\/\S+) (created|configured|unchanged)$/.exec(line.trim());
    if (m) out.push({ object: m[1]!, action: m[2] as ApplyAction });
  }
  return out;
}

export interface ApplyCounts {
  created: number;
  configured: number;
  unchanged: number;
}

export function countApply(outcomes: ApplyOutcome[]): ApplyCounts {
  const counts: ApplyCounts = { created: 0, configured: 0, unchanged: 0 };
  for (const o of outcomes) counts[o.action]++;
  return counts;
}

/**
 * MetalLB's validating webhook is not serving yet right after install: the pool apply fails with
 * `failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": … connection refused` (or no endpoints, or a
 * timeout). Such a failure is retried; any other is not.
 */
export function isWebhookRace(output: string): boolean {
  return /failed calling webhook/i.test(output) && /(connection refused|no endpoints available|context deadline exceeded|i\/o timeout|EOF)/i.test(output);
}

/**
 * A kind whose CRD is not served yet: on a fresh K3s, Traefik's CRDs (IngressRoute) arrive with the traefik-crd chart
 * some time after the API answers, and a CRD applied a moment ago may not be established. Retried like the webhook.
 */
export function isMissingKind(output: string): boolean {
  return /no matches for kind/i.test(output) || /ensure CRDs are installed first/i.test(output);
}

/** The kinds kubectl could not map (`no matches for kind "IngressRoute" in version "traefik.io/v1alpha1"`). */
export function missingKinds(output: string): string[] {
  return [...new Set([...output.matchAll(/no matches for kind "([^"]+)" in version "([^"]+)"/g)].map((m) => `${m[1]} (${m[2]})`))].sort();
}

// ---- live objects and pruning ---------------------------------------------------------------------------------

/** `kind.group` as kubectl takes a type (`deployment.apps`, `ipaddresspool.metallb.io`, `secret`). */
export function resourceOf(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

/** API groups every K3s server serves from the start (its helm controller's CRDs, its add-on CRD). */
export const K3S_GROUPS = ['helm.cattle.io', 'k3s.cattle.io'];

/** Served by Kubernetes or K3s itself, rather than added by a CRD that may not be installed yet (MetalLB, Traefik). */
export function isBuiltinGroup(apiVersion: string): boolean {
  if (!apiVersion.includes('/')) return true;
  const group = apiVersion.split('/')[0]!;
  return !group.includes('.') || group.endsWith('.k8s.io') || K3S_GROUPS.includes(group);
}

/**
 * The live objects revue-pi manages (label selector), of the given kinds, in one get. Kinds added by a CRD are listed
 * only when that CRD exists (kubectl refuses the whole list for an unknown type).
 */
export function managedListQuery(kinds: { apiVersion: string; kind: string }[]): KubeQuery {
  const seen = new Set<string>();
  const builtin: string[] = [];
  const custom: { resource: string; crd: string }[] = [];
  for (const k of [...kinds].sort((a, b) => resourceOf(a.apiVersion, a.kind).localeCompare(resourceOf(b.apiVersion, b.kind)))) {
    const resource = resourceOf(k.apiVersion, k.kind);
    if (seen.has(resource)) continue;
    seen.add(resource);
    if (isBuiltinGroup(k.apiVersion)) builtin.push(resource);
    else custom.push({ resource, crd: `${k.kind.toLowerCase()}s.${k.apiVersion.split('/')[0]}` });
  }
  return { resources: builtin, allNamespaces: true, selector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, ifServed: custom };
}

/** The managed list as the script a server runs. */
export function buildListManagedCommand(kinds: { apiVersion: string; kind: string }[]): ShellScript {
  return buildKubectlGetCommand(managedListQuery(kinds));
}

/** The object references of a List's items. */
export function objectRefsOf(items: readonly KubeItem[]): ObjectRef[] {
  return items.map((i) => ({
    apiVersion: i.apiVersion ?? '',
    kind: i.kind,
    ...(i.metadata?.namespace ? { namespace: i.metadata.namespace } : {}),
    name: i.metadata?.name ?? '',
    ...(i.metadata?.labels ? { labels: i.metadata.labels } : {}),
  }));
}

/**
 * Deletes the given objects in the given order, in one script; a missing one counts as deleted. `--wait=false`:
 * a namespace terminates in the background. Exit status non-zero when any delete failed (the others still ran).
 */
export function buildDeleteCommand(refs: ObjectRef[]): ShellScript {
  const lines = [sh`rc=0`];
  for (const r of refs) {
    const ns = r.namespace ? sh` -n ${r.namespace}` : sh``;
    lines.push(sh`k3s kubectl delete ${resourceOf(r.apiVersion, r.kind)} ${r.name}${ns} --ignore-not-found --wait=false || rc=1`);
  }
  lines.push(sh`exit $rc`, sh``);
  return joinShell(lines);
}

export function describeRef(r: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

// ---- plan ---------------------------------------------------------------------------------------------------------

/** What `plan` says about one phase, compared with the live objects (no server-side diff: present ≠ unchanged). */
export function describePlannedPhase(phase: Phase, objects: K8sObject[], live: Set<string> | undefined, key: (o: K8sObject) => string): string {
  if (!live) return `would apply ${objects.length} object${objects.length === 1 ? '' : 's'} (${phase})`;
  const missing = objects.filter((o) => !live.has(key(o))).length;
  const present = objects.length - missing;
  return `would apply ${objects.length} object${objects.length === 1 ? '' : 's'} (${phase}): ${missing} new, ${present} already there (updated only where they differ)`;
}

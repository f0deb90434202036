import { buildKubectlGetEachCommand, isKind, type KubeItem, type KubeQuery, type KubeWorkload } from '../core/kube/index.js';
import type { ShellScript } from '../core/remote/shell.js';
import { chartProblem, chartsReadiness, jobReason, parseLiveJob, parseLiveWorkload, releaseWorkloadMissingProblem } from './charts.js';
import { jobInstallsFor } from './monitoring/contract.js';
import { PHASE_LABEL, type K8sObject, type Phase } from './render.js';

/**
 * When an apply phase is done: what it waits for (its workloads and HelmCharts), the gets that read their state, and
 * which of them are not ready and why. Pure, on the typed objects of core/kube. workloads/apply-phase.ts waits with
 * them; the fast path (workloads/fastpath.ts) decides with notReadyOf on the items it already read.
 */

/** What a phase waits for: workloads (by namespace and/or label selector) and HelmCharts K3s installs. */
export interface WaitTarget {
  /** Deployments, StatefulSets and DaemonSets matching this: ready as `kubectl rollout status` sees it. */
  workloads?: { namespace?: string; selector?: string };
  /**
   * Rendered HelmCharts: each ready when workloads/charts.ts says so — its install Job (helm-install-<chart>)
   * succeeded for the current spec and its release runs the workloads the monitoring contract names, ready.
   */
  charts?: K8sObject[];
}

/** The targets of one apply phase, from its objects. */
export function waitTargetOf(phase: Phase, objects: K8sObject[]): WaitTarget {
  const charts = objects.filter((o) => o.kind === 'HelmChart');
  const hasWorkloads = objects.some((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  const targetNamespaces = [...new Set(charts.map((c) => jobInstallsFor(c).targetNamespace))].sort();
  const target: WaitTarget = {};
  if (charts.length > 0) target.charts = charts;
  if (hasWorkloads) target.workloads = { selector: `${PHASE_LABEL}=${phase}` };
  // Whatever else runs in a chart's target namespace must be ready too (status shows all of it).
  else if (targetNamespaces.length === 1) target.workloads = { namespace: targetNamespaces[0] };
  return target;
}

/** Where the charts' install Jobs are, and the namespaces their releases run in that target.workloads does not list. */
export function chartNamespaces(target: WaitTarget): { jobs: string[]; releases: string[] } {
  const charts = target.charts ?? [];
  const w = target.workloads;
  const covered = (ns: string) => !!w && !w.selector && (!w.namespace || w.namespace === ns);
  return {
    jobs: [...new Set(charts.map((c) => c.metadata.namespace ?? 'default'))].sort(),
    releases: [...new Set(charts.map((c) => jobInstallsFor(c).targetNamespace))].filter((ns) => !covered(ns)).sort(),
  };
}

const WORKLOAD_TYPES = ['deployments.apps', 'statefulsets.apps', 'daemonsets.apps'];

/** The gets that read the state of everything the target names (run in one round trip: Kubectl.getEach). */
export function readinessQueries(target: WaitTarget): KubeQuery[] {
  const queries: KubeQuery[] = [];
  if (target.workloads) {
    const { namespace, selector } = target.workloads;
    queries.push({ resources: WORKLOAD_TYPES, ...(namespace ? { namespace } : { allNamespaces: true }), ...(selector ? { selector } : {}) });
  }
  const { jobs, releases } = chartNamespaces(target);
  for (const namespace of releases) queries.push({ resources: WORKLOAD_TYPES, namespace });
  for (const namespace of jobs) queries.push({ resources: ['jobs.batch'], namespace, kind: 'Job' });
  return queries;
}

/** The readiness gets as the one script a server runs. */
export function buildReadinessCommand(target: WaitTarget): ShellScript {
  return buildKubectlGetEachCommand(readinessQueries(target));
}

/** Whether a workload item is one target.workloads names. */
export function inWaitTarget(item: KubeItem, workloads: WaitTarget['workloads']): boolean {
  if (!workloads) return false;
  const [k, v] = workloads.selector ? workloads.selector.split('=') : [];
  return (!workloads.namespace || item.metadata?.namespace === workloads.namespace) && (!k || item.metadata?.labels?.[k] === v);
}

export interface NotReady {
  kind: string;
  namespace?: string;
  name: string;
  /** Why, from its status: e.g. "1 of 2 replicas available", "job has not run yet". */
  reason: string;
  /** For a HelmChart's Job or release workload: the sentence `status` prints about it (workloads/charts.ts). */
  problem?: string;
  /**
   * Waiting will not help: `failed`, the install Job gave up; `incomplete`, the Job succeeded but the release lacks
   * workloads, which K3s does not install again by itself.
   */
  stuck?: 'failed' | 'incomplete';
}

/**
 * The objects of the target that are not ready, from the items readinessQueries read. Workloads as `kubectl rollout
 * status` sees them: the controller has observed the latest generation and every replica is updated and available.
 * HelmCharts as workloads/charts.ts decides, which is what `status` reports.
 */
export function notReadyOf(items: readonly KubeItem[], target: WaitTarget): NotReady[] {
  const notReady: NotReady[] = [];
  const judged = new Set<string>();
  const keyOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;
  if (target.charts && target.charts.length > 0) {
    const live = { jobs: items.flatMap((i) => parseLiveJob(i) ?? []), workloads: items.flatMap((i) => parseLiveWorkload(i) ?? []) };
    for (const r of chartsReadiness(target.charts, live)) {
      for (const w of r.workloads) judged.add(keyOf(w.kind, w.namespace, w.name));
      if (r.verdict === 'ready') continue;
      if (r.chart.state !== 'installed') {
        notReady.push({
          kind: 'Job',
          namespace: r.chart.namespace,
          name: r.chart.job,
          reason: jobReason(r),
          problem: chartProblem(r),
          ...(r.verdict === 'failed' ? { stuck: 'failed' as const } : {}),
        });
        continue;
      }
      for (const w of r.workloads) {
        if (w.state === 'missing') {
          notReady.push({
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
            reason: `missing although Job ${r.chart.namespace}/${r.chart.job} succeeded`,
            problem: releaseWorkloadMissingProblem(w, r.chart),
            stuck: 'incomplete',
          });
        } else if (w.state === 'not-ready') {
          notReady.push({
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
            reason: `${w.ready} of ${w.desired} ${w.kind === 'DaemonSet' ? 'pods' : 'replicas'} ready`,
          });
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const i of items) {
    if (!isKind(i, 'Deployment') && !isKind(i, 'StatefulSet') && !isKind(i, 'DaemonSet')) continue;
    const name = i.metadata?.name ?? '';
    const namespace = i.metadata?.namespace;
    const key = keyOf(i.kind, namespace, name);
    if (seen.has(key) || judged.has(key) || !inWaitTarget(i, target.workloads)) continue;
    seen.add(key);
    const why = workloadNotReady(i);
    if (why) notReady.push({ kind: i.kind, ...(namespace ? { namespace } : {}), name, reason: why });
  }
  return notReady;
}

function workloadNotReady(i: KubeWorkload): string | undefined {
  const generation = i.metadata?.generation;
  if (generation !== undefined && (i.status?.observedGeneration ?? 0) < generation) return 'the controller has not seen the latest change yet';
  if (isKind(i, 'DaemonSet')) {
    const st = i.status ?? {};
    const desired = st.desiredNumberScheduled ?? 0;
    const updated = st.updatedNumberScheduled ?? 0;
    const available = st.numberAvailable ?? 0;
    if (updated < desired) return `${updated} of ${desired} pods updated`;
    if (available < desired) return `${available} of ${desired} pods available`;
    return undefined;
  }
  const st = i.status ?? {};
  const want = i.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const ready = i.kind === 'StatefulSet' ? (st.readyReplicas ?? 0) : (st.availableReplicas ?? 0);
  if (updated < want) return `${updated} of ${want} replicas updated`;
  if ((st.replicas ?? 0) > updated) return `${(st.replicas ?? 0) - updated} old replica(s) still terminating`;
  if (ready < want) return `${ready} of ${want} replicas ${i.kind === 'StatefulSet' ? 'ready' : 'available'}`;
  return undefined;
}

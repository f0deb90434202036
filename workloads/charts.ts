import { isKind, type KubeItem } from '../core/kube/index.js';
import { sh } from '../core/remote/shell.js';
import { CHARTS, type ChartKey } from '../core/inventory/images.js';
import { HELM_CONTROLLER, JOB_INSTALLS_ENV, RELEASE_WORKLOADS, jobInstallsFor, type JobInstalls, type ReleaseWorkload } from './monitoring/contract.js';
import type { K8sObject } from './render.js';

/**
 * Whether the HelmCharts revue-pi applies (Prometheus, Grafana) are installed — by K3s's helm-controller, for their
 * current spec — and whether their releases run what workloads/monitoring/contract.ts says they run. The ONE decision
 * `status` (cli/status/report.ts) and `up`/`plan` (workloads/apply.ts parseNotReady: the full path's wait and
 * the fast path) make about them. Pure, on the typed objects of core/kube, read by parseLiveJob/parseLiveWorkload.
 */

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** A Deployment, StatefulSet or DaemonSet as status and up read it. */
export interface LiveWorkload {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** Ready pods: status.readyReplicas, or a DaemonSet's status.numberReady. */
  ready: number;
  /** Wanted pods: spec.replicas (default 1), or a DaemonSet's status.desiredNumberScheduled. */
  desired: number;
}

/** Ready: as many ready pods as wanted. */
export function isWorkloadReady(w: Pick<LiveWorkload, 'ready' | 'desired'>): boolean {
  return w.ready >= w.desired;
}

export interface LiveJob {
  namespace: string;
  name: string;
  /** status.succeeded / failed / active pod counts (0 when absent). */
  succeeded: number;
  failed: number;
  active: number;
  /** Conditions that are True: Complete, Failed, Suspended (the helm-controller creates its Jobs suspended). */
  complete: boolean;
  suspended: boolean;
  /** The Failed=True condition's reason and message (e.g. BackoffLimitExceeded). */
  failure?: { reason?: string; message?: string };
  /** For K3s's install Jobs: the spec it installs, from its container `helm`'s env; absent without that container. */
  installs?: JobInstalls;
}

/** A Deployment/StatefulSet/DaemonSet item of a kubectl List; undefined for any other kind. */
export function parseLiveWorkload(item: KubeItem): LiveWorkload | undefined {
  const namespace = item.metadata?.namespace ?? '';
  const name = item.metadata?.name ?? '';
  if (isKind(item, 'Deployment') || isKind(item, 'StatefulSet'))
    return { namespace, kind: item.kind, name, desired: item.spec?.replicas ?? 1, ready: item.status?.readyReplicas ?? 0 };
  if (isKind(item, 'DaemonSet'))
    return { namespace, kind: 'DaemonSet', name, desired: item.status?.desiredNumberScheduled ?? 0, ready: item.status?.numberReady ?? 0 };
  return undefined;
}

/** A Job item of a kubectl List; undefined for any other kind. */
export function parseLiveJob(item: KubeItem): LiveJob | undefined {
  if (!isKind(item, 'Job')) return undefined;
  const status = item.status ?? {};
  const isTrue = (type: string) => status.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = isTrue('Failed');
  const helm = item.spec?.template?.spec?.containers?.find((c) => c.name === HELM_CONTROLLER.container);
  let installs: JobInstalls | undefined;
  if (helm) {
    installs = {};
    for (const [field, env] of Object.entries(JOB_INSTALLS_ENV) as [keyof JobInstalls, string][]) {
      const value = helm.env?.find((e) => e.name === env)?.value;
      if (value !== undefined) installs[field] = value;
    }
  }
  return {
    namespace: item.metadata?.namespace ?? '',
    name: item.metadata?.name ?? '',
    succeeded: status.succeeded ?? 0,
    failed: status.failed ?? 0,
    active: status.active ?? 0,
    complete: Boolean(isTrue('Complete')),
    suspended: Boolean(isTrue('Suspended')),
    ...(failed ? { failure: { ...(failed.reason ? { reason: failed.reason } : {}), ...(failed.message ? { message: failed.message } : {}) } } : {}),
    ...(installs ? { installs } : {}),
  };
}

export interface StatusChart {
  /** The HelmChart, e.g. kube-system/prometheus. */
  namespace: string;
  name: string;
  /** Where its Helm release (named after the chart) runs. */
  targetNamespace: string;
  /** K3s's helm-controller install Job for it, in the chart's namespace: helm-install-<name>. */
  job: string;
  /**
   * installed: the Job for the current spec completed · outdated: the Job installs another spec (K3s replaces it) ·
   * installing: not finished yet (suspended or running) · retrying: attempts failed and it tries again · failed: it
   * gave up (Failed condition) · missing: there is no Job, the chart was never installed.
   */
  state: 'installed' | 'outdated' | 'installing' | 'retrying' | 'failed' | 'missing';
  /** Failed attempts so far (pods of the Job that failed). */
  failedAttempts: number;
}

export interface ReleaseWorkloadState {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  ready: number;
  desired: number;
  state: 'ready' | 'not-ready' | 'missing';
}

export interface ChartReadiness {
  chart: StatusChart;
  /** The install Job as read (absent: there is none). */
  job?: LiveJob;
  /** What a Job made from the chart's current spec carries (jobInstallsFor). */
  expected: Required<JobInstalls>;
  /** The release's workloads the contract names, in the target namespace; [] for a chart the contract does not know. */
  workloads: ReleaseWorkloadState[];
  /**
   * ready: installed for the current spec and every release workload there and ready · waiting: not yet, and it may
   * come by itself · failed: the install Job gave up · incomplete: installed, but release workloads are missing, which
   * K3s does not mend by itself (the Job is done).
   */
  verdict: 'ready' | 'waiting' | 'failed' | 'incomplete';
}

/** Every HelmChart in `rendered`, with its install Job's state and its release's workloads among the live ones. */
export function chartsReadiness(rendered: K8sObject[], live: { jobs: LiveJob[]; workloads: LiveWorkload[] }): ChartReadiness[] {
  const out: ChartReadiness[] = [];
  for (const o of rendered) {
    if (o.kind !== 'HelmChart') continue;
    const spec = (o.spec ?? {}) as { chart?: string };
    const namespace = o.metadata.namespace ?? 'default';
    const expected = jobInstallsFor(o);
    const jobName = HELM_CONTROLLER.jobName(o.metadata.name);
    const job = live.jobs.find((j) => j.namespace === namespace && j.name === jobName);
    const chart: StatusChart = { namespace, name: o.metadata.name, targetNamespace: expected.targetNamespace, job: jobName, ...jobState(job, expected) };
    const chartKey = (Object.keys(CHARTS) as ChartKey[]).find((k) => CHARTS[k].chart === spec.chart && RELEASE_WORKLOADS[k].release === o.metadata.name);
    const workloads = (chartKey ? RELEASE_WORKLOADS[chartKey].workloads : []).map((w: ReleaseWorkload): ReleaseWorkloadState => {
      const found = live.workloads.find((l) => l.namespace === chart.targetNamespace && l.kind === w.kind && l.name === w.name);
      if (!found) return { namespace: chart.targetNamespace, kind: w.kind, name: w.name, ready: 0, desired: w.kind === 'DaemonSet' ? 0 : 1, state: 'missing' };
      return {
        namespace: found.namespace,
        kind: found.kind,
        name: found.name,
        ready: found.ready,
        desired: found.desired,
        state: isWorkloadReady(found) ? 'ready' : 'not-ready',
      };
    });
    out.push({ chart, ...(job ? { job } : {}), expected, workloads, verdict: verdictOf(chart, workloads) });
  }
  return out.sort((a, b) => compare(a.chart.namespace, b.chart.namespace) || compare(a.chart.name, b.chart.name));
}

function verdictOf(chart: StatusChart, workloads: ReleaseWorkloadState[]): ChartReadiness['verdict'] {
  if (chart.state === 'failed') return 'failed';
  if (chart.state !== 'installed') return 'waiting';
  if (workloads.some((w) => w.state === 'missing')) return 'incomplete';
  return workloads.every((w) => w.state === 'ready') ? 'ready' : 'waiting';
}

/** How far the install Job got, as the helm-controller reads it (Complete, then Failed conditions), for this spec. */
function jobState(job: LiveJob | undefined, expected: Required<JobInstalls>): Pick<StatusChart, 'state' | 'failedAttempts'> {
  if (!job) return { state: 'missing', failedAttempts: 0 };
  const failedAttempts = job.failed;
  if (staleFields(job, expected).length > 0) return { state: 'outdated', failedAttempts };
  if (job.complete || job.succeeded > 0) return { state: 'installed', failedAttempts };
  if (job.failure) return { state: 'failed', failedAttempts };
  if (failedAttempts > 0) return { state: 'retrying', failedAttempts };
  return { state: 'installing', failedAttempts };
}

/** The fields in which the Job's env differs from what the chart's current spec gives it. */
function staleFields(job: LiveJob, expected: Required<JobInstalls>): (keyof JobInstalls)[] {
  return (Object.keys(JOB_INSTALLS_ENV) as (keyof JobInstalls)[]).filter((f) => job.installs?.[f] !== undefined && job.installs[f] !== expected[f]);
}

/** One sentence on a chart whose install Job is not `installed`, naming the Job and how to read its log. */
export function chartProblem(r: Pick<ChartReadiness, 'chart' | 'job' | 'expected'>): string {
  const { chart } = r;
  const where = `HelmChart ${chart.namespace}/${chart.name}`;
  const job = `${chart.namespace}/${chart.job}`;
  const logs = sh`kubectl -n ${chart.namespace} logs ${`job/${chart.job}`}`.text;
  const attempts = `${chart.failedAttempts} failed attempt${chart.failedAttempts === 1 ? '' : 's'}`;
  switch (chart.state) {
    case 'missing':
      return `${where} was never installed: K3s has no install Job ${job} for it; run revue-pi up, and check that K3s does not run with --disable-helm-controller.`;
    case 'failed':
      return `${where} failed to install: Job ${job} gave up after ${attempts}; read why with ${logs}, fix it, then delete the Job so K3s tries again.`;
    case 'retrying':
      return `${where} is not installed: Job ${job} has had ${attempts} and keeps retrying; read why with ${logs}.`;
    case 'installing':
      return `${where} is still being installed (Job ${job} has not finished); run status again in a minute, or follow it with ${logs}.`;
    case 'outdated':
      return `${where} is being updated: Job ${job} installs an earlier spec (${describeStale(r)}), and K3s replaces it with one for the current spec; run status again in a minute.`;
    case 'installed':
      return `${where} is installed.`;
  }
}

/** A release workload missing although the chart's install Job succeeded: K3s will not install the chart again by itself. */
export function releaseWorkloadMissingProblem(w: Pick<ReleaseWorkloadState, 'kind' | 'namespace' | 'name'>, chart: StatusChart): string {
  return `${w.kind} ${w.namespace}/${w.name} (release ${chart.name} of HelmChart ${chart.namespace}/${chart.name}) is missing although its install Job succeeded; delete the Job so K3s installs the chart again (kubectl -n ${chart.namespace} delete job ${chart.job}).`;
}

/** The Job's word for why it is not the chart's `installed`, e.g. "running", "3 failed attempt(s), still retrying". */
export function jobReason(r: Pick<ChartReadiness, 'chart' | 'job' | 'expected'>): string {
  const job = r.job;
  switch (r.chart.state) {
    case 'missing':
      return 'K3s has not created it yet (the helm controller picks the chart up)';
    case 'outdated':
      return `it installs an earlier spec (${describeStale(r)}); K3s replaces it`;
    case 'failed':
      return `failed: ${job?.failure?.message ?? 'see its pod logs'}`;
    case 'retrying':
      return `${r.chart.failedAttempts} failed attempt(s), still retrying`;
    case 'installing':
      return job?.active ? 'running' : 'not finished';
    case 'installed':
      return 'installed';
  }
}

/** `version 29.0.0 (the chart: 29.27.0)` for each field in which the Job differs from the chart. */
function describeStale(r: Pick<ChartReadiness, 'chart' | 'job' | 'expected'>): string {
  const job = r.job;
  if (!job?.installs) return 'unknown';
  const names: Record<keyof JobInstalls, string> = { chart: 'chart', version: 'version', repo: 'repo', targetNamespace: 'target namespace' };
  return staleFields(job, r.expected)
    .map((f) => `${names[f]} ${job.installs![f] || '(none)'} (the chart: ${r.expected[f] || '(none)'})`)
    .join(', ');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

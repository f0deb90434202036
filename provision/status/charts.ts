import { sh } from '../transport/shell.js';
import type { K8sObject } from '../../workloads/render.js';
import { CHARTS, type ChartKey } from '../../workloads/images.js';
import { HELM_CONTROLLER, RELEASE_WORKLOADS, type ReleaseWorkload } from '../../workloads/monitoring/contract.js';
import type { ClusterJob } from './cluster.js';

/**
 * The HelmCharts revue-pi applies (Prometheus, Grafana) as `status` sees them: K3s's helm-controller installs each
 * with a Job, and the release runs the workloads workloads/monitoring/contract.ts lists. Pure.
 */

export interface StatusChart {
  /** The HelmChart, e.g. kube-system/prometheus. */
  namespace: string;
  name: string;
  /** Where its Helm release (named after the chart) runs. */
  targetNamespace: string;
  /** K3s's helm-controller install Job for it, in the chart's namespace: helm-install-<name>. */
  job: string;
  /**
   * installed: the Job completed · installing: not finished yet (suspended or running) · retrying: attempts failed and
   * it tries again · failed: it gave up (Failed condition) · missing: there is no Job, the chart was never installed.
   */
  state: 'installed' | 'installing' | 'retrying' | 'failed' | 'missing';
  /** Failed attempts so far (pods of the Job that failed). */
  failedAttempts: number;
}

/** A rendered HelmChart as found in the cluster, with the workloads its release should run in its target namespace. */
export interface ChartInCluster {
  chart: StatusChart;
  workloads: { namespace: string; kind: ReleaseWorkload['kind']; name: string }[];
}

/** The rendered HelmCharts whose releases the contract knows, each with the state of its install Job among `jobs`. */
export function chartsInCluster(rendered: K8sObject[], jobs: ClusterJob[]): ChartInCluster[] {
  const out: ChartInCluster[] = [];
  for (const o of rendered) {
    if (o.kind !== 'HelmChart') continue;
    const spec = (o.spec ?? {}) as { chart?: string; targetNamespace?: string };
    const chartKey = (Object.keys(CHARTS) as ChartKey[]).find((k) => CHARTS[k].chart === spec.chart);
    if (!chartKey) continue;
    const namespace = o.metadata.namespace ?? 'kube-system';
    const targetNamespace = spec.targetNamespace ?? namespace;
    const job = HELM_CONTROLLER.jobName(o.metadata.name);
    out.push({
      chart: { namespace, name: o.metadata.name, targetNamespace, job, ...jobState(jobs.find((j) => j.namespace === namespace && j.name === job)) },
      workloads: RELEASE_WORKLOADS[chartKey].workloads.map((w) => ({ namespace: targetNamespace, kind: w.kind, name: w.name })),
    });
  }
  return out.sort((a, b) => (a.chart.namespace === b.chart.namespace ? compare(a.chart.name, b.chart.name) : compare(a.chart.namespace, b.chart.namespace)));
}

/** How far the install Job got, as the helm-controller reads it (Complete, then Failed conditions). */
function jobState(job: ClusterJob | undefined): Pick<StatusChart, 'state' | 'failedAttempts'> {
  if (!job) return { state: 'missing', failedAttempts: 0 };
  const failedAttempts = job.failed;
  if (job.complete || job.succeeded > 0) return { state: 'installed', failedAttempts };
  if (job.failure) return { state: 'failed', failedAttempts };
  if (failedAttempts > 0) return { state: 'retrying', failedAttempts };
  return { state: 'installing', failedAttempts };
}

export function chartProblem(chart: StatusChart): string {
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
    case 'installed':
      return `${where} is installed.`;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import type { ChartKey } from '../../core/inventory/images.js';

/**
 * How K3s installs the monitoring HelmCharts, and what each release runs: facts about upstream at the pinned
 * versions, which `status` and `up` check the cluster against (workloads/charts.ts).
 *
 * K3s's helm-controller (k3s-io/helm-controller v0.17.7, the version K3s v1.36.4+k3s1 bundles), pkg/controllers/chart/chart.go
 * (test/lab/k3s-standin/README.md, "K3s's helm-controller", has the whole contract):
 * - `jobName()`: the install Job of HelmChart <ns>/<name> is `<ns>/helm-install-<name>` (`helm-delete-<name>` while the
 *   chart is being deleted); `job()` labels it `helmcharts.helm.cattle.io/chart: <name>` and runs `helm install` with
 *   NAME=<name>, so the Helm release is named after the HelmChart, in spec.targetNamespace.
 * - Which spec a Job installs: `job()` puts it in the env of the Job's container `helm` — CHART (spec.chart, or
 *   `<name>/<spec.chart>` when spec.repo is set), VERSION, REPO, TARGET_NAMESPACE (spec.targetNamespace, else the
 *   chart's namespace). `hashObjects()` also writes a `helmcharts.helm.cattle.io/configHash: SHA256=…` annotation on
 *   the pod template, over the template and the values; it cannot be recomputed outside the controller (it hashes the
 *   controller's own defaults too), so a change of the values alone is not seen in the Job.
 * - A changed spec replaces the Job (`reconcileJob()` → `apply.ErrReplace`), once the Job controller has synced the old
 *   one: until then the previous Job, complete, is still there — hence the env check.
 * - Jobs are created suspended and resumed once the Job controller has seen them (`jobReady`, `setJobSuspended`);
 *   `jobComplete`/`jobFailed` read the Job's Complete/Failed conditions. A Job is retried up to its backoffLimit
 *   (spec.backOffLimit, default 1000), so a failing install shows as failed attempts long before Failed=True.
 * - A Job that is deleted is created again on the next sync of its HelmChart (wrangler apply of the chart's objects).
 */
export const HELM_CONTROLLER = {
  jobName: (chartName: string) => `helm-install-${chartName}`,
  chartLabel: 'helmcharts.helm.cattle.io/chart',
  /** The install Job's container, whose env names the spec it installs. */
  container: 'helm',
} as const;

/** What an install Job installs, as its container's env says (a field the Job does not carry is left out). */
export interface JobInstalls {
  chart?: string;
  version?: string;
  repo?: string;
  targetNamespace?: string;
}

/** The env `job()` (chart.go, v0.17.7) gives the install Job's container for each field of JobInstalls. */
export const JOB_INSTALLS_ENV: Record<keyof JobInstalls, string> = { chart: 'CHART', version: 'VERSION', repo: 'REPO', targetNamespace: 'TARGET_NAMESPACE' };

/** What the install Job of this HelmChart carries when it was made from the chart's current spec (`job()`). */
export function jobInstallsFor(chart: { metadata: { name: string; namespace?: string }; spec?: unknown }): Required<JobInstalls> {
  const spec = (chart.spec ?? {}) as { chart?: string; version?: string; repo?: string; targetNamespace?: string };
  const repo = spec.repo ?? '';
  return {
    chart: repo ? `${chart.metadata.name}/${spec.chart ?? ''}` : (spec.chart ?? ''),
    version: spec.version ?? '',
    repo,
    targetNamespace: spec.targetNamespace || (chart.metadata.namespace ?? 'default'),
  };
}

export interface ReleaseWorkload {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
}

/**
 * The Deployments/StatefulSets/DaemonSets each bundled HelmChart's release runs in its target namespace, for the
 * release names and values in workloads/monitoring/*.yaml (a test checks those still hold). Names follow each chart's
 * `fullname` helper: the release name when it contains the chart name, else `<release>-<chart>`.
 */
export const RELEASE_WORKLOADS: Record<ChartKey, { release: string; workloads: ReleaseWorkload[]; source: string }> = {
  prometheus: {
    release: 'prometheus',
    workloads: [
      // templates/deploy.yaml: a Deployment unless server.statefulSet.enabled or server.daemonSet.enabled (both false by
      // default); named by prometheus.server.fullname = <release>-server (server.name "server").
      { kind: 'Deployment', name: 'prometheus-server' },
      // Subchart kube-state-metrics 8.4.0 (Chart.lock): a Deployment unless autosharding.enabled (false).
      { kind: 'Deployment', name: 'prometheus-kube-state-metrics' },
      // Subchart prometheus-node-exporter 4.56.1: a DaemonSet.
      { kind: 'DaemonSet', name: 'prometheus-prometheus-node-exporter' },
      // alertmanager and prometheus-pushgateway are disabled in workloads/monitoring/prometheus.yaml.
    ],
    source:
      'prometheus-community/helm-charts tag prometheus-29.27.0: charts/prometheus/{Chart.lock,templates/deploy.yaml,templates/_helpers.tpl,values.yaml}; tags kube-state-metrics-8.4.0 (templates/deployment.yaml, _helpers.tpl) and prometheus-node-exporter-4.56.1 (templates/daemonset.yaml, _helpers.tpl)',
  },
  grafana: {
    release: 'grafana',
    workloads: [
      // templates/deployment.yaml: a Deployment unless useStatefulSet, or persistence.type is a StatefulSet type
      // (workloads/monitoring/grafana.yaml sets type pvc). The image renderer is off by default.
      { kind: 'Deployment', name: 'grafana' },
    ],
    source: 'grafana-community/helm-charts tag grafana-12.3.1: charts/grafana/templates/{deployment.yaml,statefulset.yaml,_helpers.tpl}',
  },
};

import type { ChartKey } from '../images.js';

/**
 * How K3s installs the monitoring HelmCharts, and what each release runs: facts about upstream at the pinned
 * versions, which `status` checks the cluster against.
 *
 * K3s's helm-controller (k3s-io/helm-controller v0.17.7, the version K3s v1.36.4+k3s1 bundles), pkg/controllers/chart/chart.go:
 * - `jobName()`: the install Job of HelmChart <ns>/<name> is `<ns>/helm-install-<name>` (`helm-delete-<name>` while the
 *   chart is being deleted); `job()` labels it `helmcharts.helm.cattle.io/chart: <name>` and runs `helm install` with
 *   NAME=<name>, so the Helm release is named after the HelmChart, in spec.targetNamespace.
 * - Jobs are created suspended and resumed once the Job controller has seen them (`jobReady`, `setJobSuspended`);
 *   `jobComplete`/`jobFailed` read the Job's Complete/Failed conditions. A Job is retried up to its backoffLimit
 *   (spec.backOffLimit, default 1000), so a failing install shows as failed attempts long before Failed=True.
 * - A Job that is deleted is created again on the next sync of its HelmChart (wrangler apply of the chart's objects).
 */
export const HELM_CONTROLLER = {
  jobName: (chartName: string) => `helm-install-${chartName}`,
  chartLabel: 'helmcharts.helm.cattle.io/chart',
} as const;

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

import { describe, expect, it } from 'vitest';
import {
  chartProblem,
  chartsReadiness,
  isWorkloadReady,
  jobReason,
  parseLiveJob,
  parseLiveWorkload,
  type LiveJob,
  type LiveWorkload,
} from '../../../workloads/charts.js';
import { CHARTS } from '../../../core/inventory/images.js';
import { jobInstallsFor } from '../../../workloads/monitoring/contract.js';
import { renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * The one decision status and up make about the HelmCharts revue-pi applies (workloads/charts.ts), on typed objects:
 * the install Job succeeded for the current spec, and the release runs the contract's workloads, ready.
 */
const rendered = renderWorkloads(labInventory(), { secrets: 'references' });

/** An install Job as K3s's helm-controller leaves it after a successful install of the chart's current spec. */
function installed(chart: 'grafana' | 'prometheus', extra: Partial<LiveJob> = {}): LiveJob {
  const repo = CHARTS[chart].repo;
  return {
    namespace: 'kube-system',
    name: `helm-install-${chart}`,
    succeeded: 1,
    failed: 0,
    active: 0,
    complete: true,
    suspended: false,
    installs: { chart: `${chart}/${chart}`, version: CHARTS[chart].version, repo, targetNamespace: 'monitoring' },
    ...extra,
  };
}
const running = (ns: string, kind: LiveWorkload['kind'], name: string, ready = 1, desired = 1): LiveWorkload => ({ namespace: ns, kind, name, ready, desired });
const releases = (): LiveWorkload[] => [
  running('monitoring', 'Deployment', 'grafana'),
  running('monitoring', 'Deployment', 'prometheus-server'),
  running('monitoring', 'Deployment', 'prometheus-kube-state-metrics'),
  running('monitoring', 'DaemonSet', 'prometheus-prometheus-node-exporter', 3, 3),
];
const verdicts = (jobs: LiveJob[], workloads: LiveWorkload[]) =>
  chartsReadiness(rendered, { jobs, workloads }).map((r) => [r.chart.name, r.chart.state, r.verdict]);

describe('chartsReadiness', () => {
  it('ready: both Jobs succeeded for the current spec and every release workload runs, ready', () => {
    expect(verdicts([installed('grafana'), installed('prometheus')], releases())).toEqual([
      ['grafana', 'installed', 'ready'],
      ['prometheus', 'installed', 'ready'],
    ]);
  });

  it('an empty monitoring namespace is not ready although both Jobs succeeded: the release workloads are missing (incomplete)', () => {
    const [grafana, prometheus] = chartsReadiness(rendered, { jobs: [installed('grafana'), installed('prometheus')], workloads: [] });
    expect(grafana!.verdict).toBe('incomplete');
    expect(grafana!.workloads).toEqual([{ namespace: 'monitoring', kind: 'Deployment', name: 'grafana', ready: 0, desired: 1, state: 'missing' }]);
    expect(prometheus!.verdict).toBe('incomplete');
    expect(prometheus!.workloads.map((w) => [w.kind, w.name, w.state])).toEqual([
      ['Deployment', 'prometheus-server', 'missing'],
      ['Deployment', 'prometheus-kube-state-metrics', 'missing'],
      ['DaemonSet', 'prometheus-prometheus-node-exporter', 'missing'],
    ]);
  });

  it('one release workload not ready: waiting; a DaemonSet wanted on no node counts as ready', () => {
    const workloads = releases().map((w) =>
      w.name === 'prometheus-server' ? { ...w, ready: 0 } : w.kind === 'DaemonSet' ? { ...w, ready: 0, desired: 0 } : w,
    );
    expect(verdicts([installed('grafana'), installed('prometheus')], workloads)).toEqual([
      ['grafana', 'installed', 'ready'],
      ['prometheus', 'installed', 'waiting'],
    ]);
  });

  it('release workloads elsewhere, or of another kind, do not count', () => {
    const workloads = [running('revue', 'Deployment', 'grafana'), running('monitoring', 'StatefulSet', 'grafana')];
    expect(chartsReadiness(rendered, { jobs: [installed('grafana')], workloads })[0]!.workloads[0]!.state).toBe('missing');
  });

  it.each([
    ['no Job', undefined, 'missing', 'waiting'],
    ['suspended, not started', { succeeded: 0, complete: false, suspended: true }, 'installing', 'waiting'],
    ['running', { succeeded: 0, complete: false, active: 1 }, 'installing', 'waiting'],
    ['failed attempts, retrying', { succeeded: 0, complete: false, active: 1, failed: 3 }, 'retrying', 'waiting'],
    [
      'gave up',
      { succeeded: 0, complete: false, failed: 1001, failure: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } },
      'failed',
      'failed',
    ],
    [
      'made for an earlier version of the chart',
      { installs: { chart: 'grafana/grafana', version: '12.0.0', repo: CHARTS.grafana.repo, targetNamespace: 'monitoring' } },
      'outdated',
      'waiting',
    ],
    [
      'made for another target namespace',
      { installs: { chart: 'grafana/grafana', version: CHARTS.grafana.version, repo: CHARTS.grafana.repo, targetNamespace: 'default' } },
      'outdated',
      'waiting',
    ],
    ['its env not read (no helm container): not compared', { installs: undefined }, 'installed', 'ready'],
  ] as const)('install Job %s: %s, %s', (_name, job, state, verdict) => {
    const jobs = job === undefined ? [] : [installed('grafana', job as Partial<LiveJob>)];
    expect(chartsReadiness(rendered, { jobs, workloads: releases() })[0]).toMatchObject({ chart: { name: 'grafana', state }, verdict });
  });

  it("a Job of another namespace is not the chart's", () => {
    expect(verdicts([installed('grafana', { namespace: 'revue' })], releases())[0]).toEqual(['grafana', 'missing', 'waiting']);
  });

  it('the chart as status reports it: namespace, release namespace, Job, failed attempts', () => {
    expect(chartsReadiness(rendered, { jobs: [installed('prometheus', { failed: 2 })], workloads: releases() })[1]!.chart).toEqual({
      namespace: 'kube-system',
      name: 'prometheus',
      targetNamespace: 'monitoring',
      job: 'helm-install-prometheus',
      state: 'installed',
      failedAttempts: 2,
    });
    // No chart rendered (monitoring off): nothing to decide.
    expect(
      chartsReadiness(renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets: 'references' }), { jobs: [], workloads: [] }),
    ).toEqual([]);
  });
});

describe('what status and up say about a chart', () => {
  const readiness = (job: Partial<LiveJob> | undefined) =>
    chartsReadiness(rendered, { jobs: job === undefined ? [] : [installed('grafana', job)], workloads: [] })[0]!;
  it.each([
    [
      undefined,
      'K3s has not created it yet (the helm controller picks the chart up)',
      'HelmChart kube-system/grafana was never installed: K3s has no install Job kube-system/helm-install-grafana for it; run revue-pi up, and check that K3s does not run with --disable-helm-controller.',
    ],
    [
      { succeeded: 0, complete: false, failed: 1001, failure: { message: 'Job has reached the specified backoff limit' } },
      'failed: Job has reached the specified backoff limit',
      'HelmChart kube-system/grafana failed to install: Job kube-system/helm-install-grafana gave up after 1001 failed attempts; read why with kubectl -n kube-system logs job/helm-install-grafana, fix it, then delete the Job so K3s tries again.',
    ],
    [
      { succeeded: 0, complete: false, active: 1, failed: 1 },
      '1 failed attempt(s), still retrying',
      'HelmChart kube-system/grafana is not installed: Job kube-system/helm-install-grafana has had 1 failed attempt and keeps retrying; read why with kubectl -n kube-system logs job/helm-install-grafana.',
    ],
    [
      { succeeded: 0, complete: false, active: 1 },
      'running',
      'HelmChart kube-system/grafana is still being installed (Job kube-system/helm-install-grafana has not finished); run status again in a minute, or follow it with kubectl -n kube-system logs job/helm-install-grafana.',
    ],
    [
      { installs: { chart: 'grafana/grafana', version: '12.0.0', repo: CHARTS.grafana.repo, targetNamespace: 'monitoring' } },
      `it installs an earlier spec (version 12.0.0 (the chart: ${CHARTS.grafana.version})); K3s replaces it`,
      `HelmChart kube-system/grafana is being updated: Job kube-system/helm-install-grafana installs an earlier spec (version 12.0.0 (the chart: ${CHARTS.grafana.version})), and K3s replaces it with one for the current spec; run status again in a minute.`,
    ],
  ])('%o', (job, reason, problem) => {
    const r = readiness(job as Partial<LiveJob> | undefined);
    expect(jobReason(r)).toBe(reason);
    expect(chartProblem(r)).toBe(problem);
  });
});

describe('parsing kubectl items', () => {
  it('an install Job as K3s (and the lab stand-in) prints it: counts, conditions and the spec its helm container installs', () => {
    const chart = rendered.find((o) => o.kind === 'HelmChart' && o.metadata.name === 'prometheus')!;
    const env = [
      { name: 'NAME', value: 'prometheus' },
      { name: 'VERSION', value: CHARTS.prometheus.version },
      { name: 'REPO', value: CHARTS.prometheus.repo },
      { name: 'HELM_DRIVER', value: 'secret' },
      { name: 'CHART_NAMESPACE', value: 'kube-system' },
      { name: 'CHART', value: 'prometheus/prometheus' },
      { name: 'TARGET_NAMESPACE', value: 'monitoring' },
      { name: 'TIMEOUT', value: '15m0s' },
    ];
    const job = parseLiveJob({
      kind: 'Job',
      metadata: { name: 'helm-install-prometheus', namespace: 'kube-system' },
      spec: { backoffLimit: 1000, template: { spec: { containers: [{ name: 'helm', env }] } } },
      status: { failed: 2, succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] },
    });
    expect(job).toEqual({
      namespace: 'kube-system',
      name: 'helm-install-prometheus',
      succeeded: 1,
      failed: 2,
      active: 0,
      complete: true,
      suspended: false,
      installs: { chart: 'prometheus/prometheus', version: CHARTS.prometheus.version, repo: CHARTS.prometheus.repo, targetNamespace: 'monitoring' },
    });
    // Exactly what the chart's current spec gives its Job.
    expect(job!.installs).toEqual(jobInstallsFor(chart));
    expect(
      parseLiveJob({
        kind: 'Job',
        metadata: { name: 'x', namespace: 'y' },
        status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] },
      }),
    ).toEqual({
      namespace: 'y',
      name: 'x',
      succeeded: 0,
      failed: 0,
      active: 0,
      complete: false,
      suspended: false,
      failure: { reason: 'BackoffLimitExceeded' },
    });
    expect(parseLiveJob({ kind: 'Deployment' })).toBeUndefined();
  });

  it('workloads: replicas and ready pods; a DaemonSet by its scheduled and ready pods', () => {
    expect(parseLiveWorkload({ kind: 'Deployment', metadata: { name: 'a', namespace: 'n' }, spec: { replicas: 2 }, status: { readyReplicas: 1 } })).toEqual({
      namespace: 'n',
      kind: 'Deployment',
      name: 'a',
      desired: 2,
      ready: 1,
    });
    expect(parseLiveWorkload({ kind: 'StatefulSet', metadata: { name: 's', namespace: 'n' }, spec: {}, status: {} })).toEqual({
      namespace: 'n',
      kind: 'StatefulSet',
      name: 's',
      desired: 1,
      ready: 0,
    });
    expect(parseLiveWorkload({ kind: 'DaemonSet', metadata: { name: 'd', namespace: 'n' }, status: { desiredNumberScheduled: 3, numberReady: 3 } })).toEqual({
      namespace: 'n',
      kind: 'DaemonSet',
      name: 'd',
      desired: 3,
      ready: 3,
    });
    expect(parseLiveWorkload({ kind: 'Job' })).toBeUndefined();
    expect([isWorkloadReady({ ready: 1, desired: 2 }), isWorkloadReady({ ready: 2, desired: 2 }), isWorkloadReady({ ready: 0, desired: 0 })]).toEqual([
      false,
      true,
      true,
    ]);
  });
});

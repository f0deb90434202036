/*
 * revue-pi LAB STAND-IN for K3s's helm-controller (k3s-io/helm-controller v0.17.7, pkg/controllers/chart/chart.go).
 * NOT the helm-controller, and no Helm: see README.md next to this file, "K3s's helm-controller", for the upstream
 * contract and what is simplified here.
 *
 * server.ts assembles it into the stand-in binary after the constant HELM_RELEASES (the workloads each chart's release
 * runs, from workloads/monitoring/contract.ts) and before k3s.cjs, whose Store calls `helmController.sync` when a
 * HelmChart or HelmChartConfig is stored or applied again, `uninstall` when a HelmChart is deleted, and `advance`
 * before each API call (time moves on only then: nothing runs in between).
 */
/* global HELM_RELEASES */
const helmController = (function () {
  'use strict';
  const fs = require('node:fs');
  const crypto = require('node:crypto');
  const WHO = 'revue-pi lab stand-in';
  const KEY_CONFIG_HASH = 'helmcharts.helm.cattle.io/configHash';
  const LABEL_CHART = 'helmcharts.helm.cattle.io/chart';
  const DEFAULT_BACKOFF_LIMIT = 1000;
  /** The lab knob: `{ "<ns>/<chart>": { outcome: "fail" | "retry" | "no-workloads", installMs, readyMs } }`. */
  const KNOB_FILE = '/var/lib/rancher/k3s/server/standin-helm.json';

  const stable = (v) =>
    Array.isArray(v)
      ? v.map(stable)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, stable(v[k])]),
          )
        : v;
  const hashOf = (v) =>
    crypto
      .createHash('sha256')
      .update(JSON.stringify(stable(v)))
      .digest('hex')
      .toUpperCase();
  const jobKey = (ns, name) => `batch/Job/${ns}/helm-install-${name}`;
  const typeOf = (store, kind, group) => store.types().find((t) => t.kind === kind && t.group === group);

  function knobs() {
    try {
      return JSON.parse(fs.readFileSync(KNOB_FILE, 'utf8')) || {};
    } catch {
      return {};
    }
  }

  /** job() + args() + hashObjects() of chart.go, as far as a reader of the Job sees them. */
  function installJob(chart, config) {
    const { name, namespace } = chart.metadata;
    const spec = chart.spec || {};
    const target = spec.targetNamespace || namespace;
    const backoffLimit = spec.backOffLimit !== undefined ? spec.backOffLimit : DEFAULT_BACKOFF_LIMIT;
    const env = [
      ['NAME', name],
      ['VERSION', spec.version || ''],
      ['REPO', spec.repo || ''],
      ['HELM_DRIVER', spec.driver || 'secret'],
      ['CHART_NAMESPACE', namespace],
      ['CHART', spec.repo ? `${name}/${spec.chart || ''}` : spec.chart || ''],
      ['HELM_VERSION', spec.helmVersion || ''],
      ['TARGET_NAMESPACE', target],
      ['AUTH_PASS_CREDENTIALS', String(!!spec.authPassCredentials)],
      ['INSECURE_SKIP_TLS_VERIFY', String(!!spec.insecureSkipTLSVerify)],
      ['PLAIN_HTTP', String(!!spec.plainHTTP)],
      ...(spec.timeout ? [['TIMEOUT', String(spec.timeout)]] : []),
    ].map(([n, value]) => ({ name: n, value }));
    const args = [
      'install',
      ...(spec.targetNamespace ? ['--namespace', spec.targetNamespace] : []),
      ...(spec.createNamespace ? ['--create-namespace'] : []),
      ...(spec.version ? ['--version', spec.version] : []),
    ];
    const template = {
      metadata: { annotations: {}, labels: { [LABEL_CHART]: name } },
      spec: {
        restartPolicy: 'OnFailure',
        serviceAccountName: `helm-${name}`,
        containers: [{ name: 'helm', image: spec.jobImage || `rancher/klipper-helm:latest (${WHO}: never runs)`, args, env }],
      },
    };
    // Stand-in hash: what upstream's covers (backoff limit, template, values), not its bytes (see README).
    const hash = `SHA256=${hashOf({ backoffLimit, template, values: [spec.valuesContent || '', spec.values || null, (config && config.spec) || null] })}`;
    template.metadata.annotations[KEY_CONFIG_HASH] = hash;
    const configHash = hash.slice(7, 70);
    template.spec.containers[0].env.push({ name: 'EXPECTED_RELEASE_REVISION', value: '0' }, { name: 'CONFIG_HASH', value: configHash });
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `helm-install-${name}`, namespace, labels: { [LABEL_CHART]: name } },
      spec: { backoffLimit, suspend: false, template },
    };
  }

  function setChartStatus(chart, failed) {
    const jobName = `helm-install-${chart.metadata.name}`;
    chart.status = {
      jobName,
      conditions: [
        { type: 'JobCreated', status: 'True', reason: 'Job created', message: `Applying HelmChart using Job ${chart.metadata.namespace}/${jobName}` },
        failed
          ? { type: 'Failed', status: 'True', reason: 'Job failed', message: 'Job has reached configured number of retries without succeeding' }
          : { type: 'Failed', status: 'False' },
      ],
    };
  }

  /** The workloads the contract says this chart's release runs; none for a chart it does not know. */
  function releaseWorkloads(chart) {
    const spec = chart.spec || {};
    const release = HELM_RELEASES.find((r) => r.chart === spec.chart && r.release === chart.metadata.name);
    if (!release) return [];
    const target = spec.targetNamespace || chart.metadata.namespace;
    return release.workloads.map((w) => {
      const labels = { 'app.kubernetes.io/instance': release.release, 'app.kubernetes.io/name': w.name };
      return {
        apiVersion: 'apps/v1',
        kind: w.kind,
        metadata: {
          name: w.name,
          namespace: target,
          labels: { ...labels, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': `${spec.chart}-${spec.version || ''}` },
          annotations: { 'meta.helm.sh/release-name': release.release, 'meta.helm.sh/release-namespace': target },
        },
        spec: {
          ...(w.kind === 'DaemonSet' ? {} : { replicas: 1 }),
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: w.name, image: `${WHO}: chart ${spec.chart} ${spec.version || ''} not rendered` }] } },
        },
      };
    });
  }

  /** The chart was stored or applied again (or its HelmChartConfig was): the controller's OnChange. */
  function sync(store, chart, now = Date.now()) {
    if (!chart) return;
    const { name, namespace } = chart.metadata;
    const config = store.data.objects[`helm.cattle.io/HelmChartConfig/${namespace}/${name}`];
    const job = installJob(chart, config);
    const key = jobKey(namespace, name);
    const old = store.data.objects[key];
    const entry = (store.data.helm = store.data.helm || {})[`${namespace}/${name}`];
    if (old && old.spec.template.metadata.annotations[KEY_CONFIG_HASH] === job.spec.template.metadata.annotations[KEY_CONFIG_HASH]) {
      setChartStatus(chart, !!(entry && entry.outcome === 'fail' && entry.finished));
      return;
    }
    // A new spec: the Job is replaced (deleted, then created: new uid and creationTimestamp).
    if (old) delete store.data.objects[key];
    const knob = knobs()[`${namespace}/${name}`] || {};
    store.put(typeOf(store, 'Job', 'batch'), job);
    store.data.objects[key].status = { active: 1, startTime: new Date(now).toISOString() };
    store.data.helm[`${namespace}/${name}`] = {
      outcome: knob.outcome || 'ok',
      finishAt: now + (Number(knob.installMs) || 0),
      readyMs: Number(knob.readyMs) || 0,
      finished: false,
      workloads: entry ? entry.workloads : [],
    };
    setChartStatus(chart, false);
    advance(store, now);
  }

  /** Moves every install on to `now`: Jobs that have run long enough finish, release workloads turn ready. */
  function advance(store, now = Date.now()) {
    for (const [id, e] of Object.entries(store.data.helm || {})) {
      const [ns, name] = id.split('/');
      const chart = store.data.objects[`helm.cattle.io/HelmChart/${ns}/${name}`];
      const job = store.data.objects[jobKey(ns, name)];
      if (!chart || !job) continue;
      if (!e.finished && now >= e.finishAt) finish(store, chart, job, e, now);
      if (e.readyAt !== undefined && now >= e.readyAt) {
        for (const k of e.workloads) if (store.data.objects[k]) store.simulateStatus(store.data.objects[k], store.data.objects[k]);
        delete e.readyAt;
      }
    }
  }

  function finish(store, chart, job, e, now) {
    e.finished = true;
    const at = new Date(now).toISOString();
    const target = (chart.spec && chart.spec.targetNamespace) || chart.metadata.namespace;
    const started = job.status.startTime;
    if (e.outcome === 'fail') {
      job.status = {
        failed: job.spec.backoffLimit + 1,
        startTime: started,
        conditions: [
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: at },
        ],
      };
      setChartStatus(chart, true);
      return;
    }
    if (e.outcome === 'retry') {
      job.status = { failed: 3, active: 1, startTime: started };
      return;
    }
    if (!store.namespaceExists(target)) {
      // Helm fails with `namespaces "<target>" not found` and the Job retries: tried again at each API call.
      job.status = { failed: 1, active: 1, startTime: started };
      e.finished = false;
      return;
    }
    job.status = { succeeded: 1, startTime: started, completionTime: at, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at }] };
    const objects = e.outcome === 'no-workloads' ? [] : releaseWorkloads(chart);
    for (const k of e.workloads) delete store.data.objects[k]; // an upgrade renders them again
    e.workloads = [];
    for (const o of objects) {
      store.put(typeOf(store, o.kind, 'apps'), o);
      const k = store.key(typeOf(store, o.kind, 'apps'), o.metadata.namespace, o.metadata.name);
      e.workloads.push(k);
      if (e.readyMs > 0) notReady(store.data.objects[k]);
    }
    if (e.readyMs > 0) e.readyAt = now + e.readyMs;
  }

  /** Created by the release, pods not ready yet. */
  function notReady(o) {
    const g = o.metadata.generation;
    if (o.kind === 'DaemonSet')
      o.status = { ...o.status, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: o.status.desiredNumberScheduled, observedGeneration: g };
    else o.status = { observedGeneration: g, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 };
  }

  /** The chart was deleted: helm-delete uninstalls the release, and the Job goes with the chart. */
  function uninstall(store, namespace, name) {
    const e = store.data.helm && store.data.helm[`${namespace}/${name}`];
    for (const k of e ? e.workloads : []) delete store.data.objects[k];
    if (store.data.helm) delete store.data.helm[`${namespace}/${name}`];
    delete store.data.objects[jobKey(namespace, name)];
  }

  return { sync, advance, uninstall, KNOB_FILE };
})();

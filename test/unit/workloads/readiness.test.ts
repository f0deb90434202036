import { describe, expect, it } from 'vitest';
import { parseKubeLists, splitJsonDocuments } from '../../../core/kube/index.js';
import { buildReadinessCommand, notReadyOf, waitTargetOf, type WaitTarget } from '../../../workloads/readiness.js';
import { objectsOfPhase, renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/** workloads/readiness.ts: what a phase waits for and what is not ready, on kubectl output read by core/kube's parser. */
const parseNotReady = (output: string, target: WaitTarget) => notReadyOf(parseKubeLists(output, { command: 'readiness' }).flat(), target);

describe('readiness', () => {
  const inventory = labInventory();
  const objects = renderWorkloads(inventory, { secrets: 'references' });

  it('what each phase waits for', () => {
    expect(waitTargetOf('metallb', objectsOfPhase(objects, 'metallb'))).toEqual({ workloads: { selector: 'revue-pi.io/phase=metallb' } });
    expect(waitTargetOf('metallb-config', objectsOfPhase(objects, 'metallb-config'))).toEqual({});
    expect(waitTargetOf('traefik', objectsOfPhase(objects, 'traefik'))).toEqual({});
    const monitoring = waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'));
    expect(monitoring.workloads).toEqual({ namespace: 'monitoring' });
    expect(monitoring.charts!.map((c) => `${c.kind} ${c.metadata.namespace}/${c.metadata.name}`)).toEqual([
      'HelmChart kube-system/grafana',
      'HelmChart kube-system/prometheus',
    ]);
    expect(waitTargetOf('revue', objectsOfPhase(objects, 'revue'))).toEqual({ workloads: { selector: 'revue-pi.io/phase=revue' } });
  });

  it('builds one command per target', () => {
    expect(buildReadinessCommand({}).text).toBe('');
    expect(buildReadinessCommand({ workloads: { selector: 'revue-pi.io/phase=revue' } }).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -A -l revue-pi.io/phase=revue -o json',
    );
    expect(buildReadinessCommand(waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'))).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -n monitoring -o json\nk3s kubectl get jobs.batch -n kube-system -o json',
    );
    // A chart released where target.workloads does not look: that namespace is listed too.
    const chart = objectsOfPhase(objects, 'monitoring').find((o) => o.kind === 'HelmChart')!;
    expect(buildReadinessCommand({ workloads: { selector: 'revue-pi.io/phase=x' }, charts: [chart] }).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -A -l revue-pi.io/phase=x -o json\n' +
        'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -n monitoring -o json\n' +
        'k3s kubectl get jobs.batch -n kube-system -o json',
    );
  });

  const list = (items: unknown[]) => JSON.stringify({ kind: 'List', items }, null, 4);
  const deploy = (name: string, spec: object, status: object, generation = 2) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'revue', generation },
    spec,
    status,
  });

  it.each([
    ['available', deploy('a', { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), undefined],
    [
      'old generation',
      deploy('a', { replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      'the controller has not seen the latest change yet',
    ],
    ['rolling', deploy('a', { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }), '1 of 2 replicas updated'],
    [
      'old pods left',
      deploy('a', { replicas: 1 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }),
      '1 old replica(s) still terminating',
    ],
    ['unavailable', deploy('a', {}, { observedGeneration: 2, replicas: 1, updatedReplicas: 1 }), '0 of 1 replicas available'],
    [
      'daemonset short',
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'speaker', namespace: 'metallb-system', generation: 1 },
        status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
      },
      '2 of 3 pods available',
    ],
    [
      'statefulset not ready',
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 's', namespace: 'revue', generation: 1 },
        spec: { replicas: 1 },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0 },
      },
      '0 of 1 replicas ready',
    ],
  ])('%s', (_name, item, reason) => {
    const got = parseNotReady(list([item]), { workloads: {} });
    expect(got.map((n) => n.reason)).toEqual(reason === undefined ? [] : [reason]);
  });

  /** K3s's install Job for a rendered chart, made from its current spec (the env job() gives its helm container). */
  const installJob = (chart: string, status: object, version?: string) => {
    const c = objects.find((o) => o.kind === 'HelmChart' && o.metadata.name === chart)!;
    const spec = c.spec as { chart: string; version: string; repo: string; targetNamespace: string };
    const env = { NAME: chart, VERSION: version ?? spec.version, REPO: spec.repo, CHART: `${chart}/${spec.chart}`, TARGET_NAMESPACE: spec.targetNamespace };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `helm-install-${chart}`, namespace: 'kube-system' },
      spec: { backoffLimit: 1000, template: { spec: { containers: [{ name: 'helm', env: Object.entries(env).map(([name, value]) => ({ name, value })) }] } } },
      status,
    };
  };
  const monitoring = waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'));
  const ready = (kind: string, name: string) => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'monitoring', generation: 1 },
    spec: kind === 'DaemonSet' ? {} : { replicas: 1 },
    status:
      kind === 'DaemonSet'
        ? { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberReady: 2, numberAvailable: 2 }
        : { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  });
  const releases = [
    ready('Deployment', 'grafana'),
    ready('Deployment', 'prometheus-server'),
    ready('Deployment', 'prometheus-kube-state-metrics'),
    ready('DaemonSet', 'prometheus-prometheus-node-exporter'),
  ];
  const succeeded = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };

  it('monitoring: ready once both Jobs succeeded for the current spec and the releases run their workloads', () => {
    expect(parseNotReady(`${list(releases)}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`, monitoring)).toEqual([]);
  });

  it('monitoring: both Jobs succeeded but the namespace is empty — not ready: the release workloads are missing (as status says)', () => {
    const got = parseNotReady(`${list([])}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`, monitoring);
    expect(got.map((n) => [n.kind, n.namespace, n.name, n.stuck])).toEqual([
      ['Deployment', 'monitoring', 'grafana', 'incomplete'],
      ['Deployment', 'monitoring', 'prometheus-server', 'incomplete'],
      ['Deployment', 'monitoring', 'prometheus-kube-state-metrics', 'incomplete'],
      ['DaemonSet', 'monitoring', 'prometheus-prometheus-node-exporter', 'incomplete'],
    ]);
    expect(got[0]!.reason).toBe('missing although Job kube-system/helm-install-grafana succeeded');
  });

  it('monitoring: Jobs missing, running, retrying, failed, or made for an earlier version — from several JSON documents in a row', () => {
    const out = `${list(releases)}\n${list([installJob('grafana', { active: 1, failed: 2 }), installJob('prometheus', succeeded, '25.0.0')])}\n`;
    expect(parseNotReady(out, monitoring).map((n) => [n.kind, n.name, n.reason, n.stuck])).toEqual([
      ['Job', 'helm-install-grafana', '2 failed attempt(s), still retrying', undefined],
      ['Job', 'helm-install-prometheus', 'it installs an earlier spec (version 25.0.0 (the chart: 29.27.0)); K3s replaces it', undefined],
    ]);
    const gaveUp = installJob('grafana', {
      failed: 1001,
      conditions: [{ type: 'Failed', status: 'True', message: 'Job has reached the specified backoff limit' }],
    });
    expect(
      parseNotReady(`${list(releases)}\n${list([gaveUp, installJob('prometheus', { active: 1 })])}\n`, monitoring).map((n) => [n.name, n.reason, n.stuck]),
    ).toEqual([
      ['helm-install-grafana', 'failed: Job has reached the specified backoff limit', 'failed'],
      ['helm-install-prometheus', 'running', undefined],
    ]);
    expect(parseNotReady(`${list(releases)}\n${list([])}\n`, monitoring).map((n) => [n.name, n.reason])).toEqual([
      ['helm-install-grafana', 'K3s has not created it yet (the helm controller picks the chart up)'],
      ['helm-install-prometheus', 'K3s has not created it yet (the helm controller picks the chart up)'],
    ]);
  });

  it('monitoring: a release workload not ready, and anything else in the namespace not rolled out, is waited for', () => {
    const notReady = {
      ...ready('Deployment', 'grafana'),
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 },
    };
    const other = { ...ready('Deployment', 'extra'), metadata: { name: 'extra', namespace: 'monitoring', generation: 2 } };
    const out = `${list([notReady, ...releases.slice(1), other])}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`;
    expect(parseNotReady(out, monitoring).map((n) => [n.name, n.reason])).toEqual([
      ['grafana', '0 of 1 replicas ready'],
      ['extra', 'the controller has not seen the latest change yet'],
    ]);
  });

  it('splits concatenated JSON documents, braces in strings included', () => {
    expect(splitJsonDocuments('{"a":"}{"}\n{\n  "b": {"c": "\\"{"}\n}\n')).toEqual(['{"a":"}{"}', '{\n  "b": {"c": "\\"{"}\n}']);
  });
});

import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { CHARTS, type ChartKey } from '../../../core/inventory/images.js';
import { HELM_CONTROLLER, RELEASE_WORKLOADS } from '../../../workloads/monitoring/contract.js';
import { renderWorkloads, MONITORING_NAMESPACE, type K8sObject } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * workloads/monitoring/contract.ts says which workloads each chart's release runs. That holds only for the release
 * names, chart versions and values revue-pi renders; these tests fail when one of them moves away from what the
 * contract was read for, so `status` never checks the cluster against stale names.
 */
const objects = renderWorkloads(labInventory(), { secrets: 'references' });
const chartObject = (key: ChartKey): K8sObject => {
  const found = objects.find((o) => o.kind === 'HelmChart' && (o.spec as { chart?: string }).chart === CHARTS[key].chart);
  if (!found) throw new Error(`no HelmChart for ${key} rendered`);
  return found;
};
const values = (key: ChartKey) => yaml.load((chartObject(key).spec as { valuesContent: string }).valuesContent) as Record<string, any>;

describe('the monitoring charts revue-pi renders match workloads/monitoring/contract.ts', () => {
  it.each(Object.keys(RELEASE_WORKLOADS) as ChartKey[])('%s: the HelmChart is named after the release, in kube-system, released into monitoring', (key) => {
    const chart = chartObject(key);
    expect(chart.metadata).toMatchObject({ name: RELEASE_WORKLOADS[key].release, namespace: 'kube-system' });
    expect((chart.spec as { targetNamespace?: string }).targetNamespace).toBe(MONITORING_NAMESPACE);
    // The contract was read at the pinned chart version: moving the pin means reading the templates again.
    expect(RELEASE_WORKLOADS[key].source).toContain(`${CHARTS[key].chart}-${CHARTS[key].version}`);
    expect(values(key).fullnameOverride).toBeUndefined();
    expect(values(key).nameOverride).toBeUndefined();
  });

  it('prometheus: the server is a Deployment, kube-state-metrics and node-exporter are on, alertmanager and pushgateway off', () => {
    const v = values('prometheus');
    expect(v.server.statefulSet?.enabled ?? false).toBe(false);
    expect(v.server.daemonSet?.enabled ?? false).toBe(false);
    expect(v.server.name ?? 'server').toBe('server');
    expect(v['kube-state-metrics'].enabled).toBe(true);
    expect(v['kube-state-metrics'].autosharding?.enabled ?? false).toBe(false);
    expect(v['prometheus-node-exporter'].enabled).toBe(true);
    expect([v.alertmanager.enabled, v['prometheus-pushgateway'].enabled]).toEqual([false, false]);
    expect(RELEASE_WORKLOADS.prometheus.workloads).toEqual([
      { kind: 'Deployment', name: 'prometheus-server' },
      { kind: 'Deployment', name: 'prometheus-kube-state-metrics' },
      { kind: 'DaemonSet', name: 'prometheus-prometheus-node-exporter' },
    ]);
  });

  it('grafana: a Deployment (persistence of type pvc, no StatefulSet), no image renderer', () => {
    const v = values('grafana');
    expect(v.useStatefulSet ?? false).toBe(false);
    expect(v.persistence).toMatchObject({ enabled: true, type: 'pvc' });
    expect(v.imageRenderer?.enabled ?? false).toBe(false);
    expect(RELEASE_WORKLOADS.grafana.workloads).toEqual([{ kind: 'Deployment', name: 'grafana' }]);
  });

  it("the helm-controller names a chart's install Job helm-install-<chart>", () => {
    expect(HELM_CONTROLLER.jobName('prometheus')).toBe('helm-install-prometheus');
  });
});

import { describe, expect, it } from 'vitest';
import { checkCapacity, nodeCapacityFrom, parseCpu, parseMemory, workloadDemands } from '../../../workloads/checks.js';
import { type K8sObject, type NodeCapacity, renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

const GiB = 1024 ** 3;
const pi5 = (name: string, role: 'server' | 'agent', memGiB = 8): NodeCapacity => ({ name, cpuCores: 4, memoryBytes: memGiB * GiB, role, armv82: true });

function deployment(name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'ns' },
    spec: { ...extra, template: { spec: { containers: [{ name: 'c', image: 'i:1', resources: { requests: { cpu, memory } } }] } } },
  };
}

function hpa(target: string, min: number, max: number): K8sObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: `${target}-hpa`, namespace: 'ns' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: min, maxReplicas: max },
  };
}

describe('quantities', () => {
  it.each([
    ['250m', 250],
    ['1', 1000],
    ['1.5', 1500],
    [2, 2000],
    ['0.1', 100],
  ])('CPU %s = %d millicores', (q, m) => expect(parseCpu(q)).toBe(m));

  it.each([
    ['128Mi', 128 * 1024 ** 2],
    ['1Gi', GiB],
    ['500M', 500e6],
    ['1048576', 1048576],
    ['1.5Gi', 1.5 * GiB],
  ])('memory %s = %d bytes', (q, b) => expect(parseMemory(q)).toBe(b));

  it.each(['1 GB', 'lots', '-1', '100mi'])('rejects %s', (q) => {
    expect(() => parseMemory(q)).toThrow(/not a memory quantity/);
  });
});

describe('workloadDemands', () => {
  it('counts HPA minimum/maximum for autoscaled Deployments, replicas otherwise, DaemonSets per node', () => {
    const objects: K8sObject[] = [
      deployment('web', '100m', '128Mi'),
      hpa('web', 2, 5),
      deployment('db', '250m', '256Mi', { replicas: 1 }),
      { ...deployment('agent', '10m', '16Mi'), kind: 'DaemonSet' },
    ];
    const d = workloadDemands(objects, 3);
    expect(d.map((x) => [x.workload, x.perPod.cpuMillis, x.minReplicas, x.maxReplicas])).toEqual([
      ['Deployment ns/web', 100, 2, 5],
      ['Deployment ns/db', 250, 1, 1],
      ['DaemonSet ns/agent', 10, 3, 3],
    ]);
  });

  it('reads the Helm charts’ requests from their values (node exporter once per node)', () => {
    const objects = renderWorkloads(labInventory(), { secrets: 'references' });
    const charts = workloadDemands(objects, 3).filter((d) => d.workload.startsWith('Helm'));
    expect(charts.map((d) => [d.workload, d.perPod.cpuMillis, d.minReplicas])).toEqual([
      ['HelmChartConfig kube-system/traefik (resources)', 100, 1],
      ['HelmChart kube-system/grafana (resources)', 50, 1],
      ['HelmChart kube-system/prometheus (server.resources)', 200, 1],
      ['HelmChart kube-system/prometheus (configmapReload.prometheus.resources)', 5, 1],
      ['HelmChart kube-system/prometheus (kube-state-metrics.resources)', 20, 1],
      ['HelmChart kube-system/prometheus (prometheus-node-exporter.resources)', 20, 3],
    ]);
  });
});

describe('checkCapacity', () => {
  const objects = renderWorkloads(labInventory(), { secrets: 'references' });

  it('computes both figures for the full bundle and accepts three Pi 5 (8 GB)', () => {
    const r = checkCapacity(objects, [pi5('pi-1', 'server'), pi5('pi-2', 'agent'), pi5('pi-3', 'agent')]);
    expect(r.verdict).toBe('ok');
    // 3 × 4 cores − (500m server + 2 × 200m agents) reserve.
    expect(r.allocatable).toEqual({ cpuMillis: 11100, memoryBytes: 24 * GiB - GiB - 2 * 384 * 1024 ** 2 });
    expect(r.atMinimum.cpuMillis).toBeGreaterThan(2000);
    expect(r.atMaximum.cpuMillis).toBeGreaterThan(r.atMinimum.cpuMillis);
    expect(r.atMaximum.memoryBytes).toBeGreaterThan(r.atMinimum.memoryBytes);
    expect(r.messages[0]).toMatch(
      /^The workloads request \d+\.\d CPU \/ \d+\.\d GiB at their minimum replicas and \d+\.\d CPU \/ \d+\.\d GiB with every autoscaler at its maximum; the nodes can give 11\.1 CPU \/ 22\.3 GiB \(3 nodes/,
    );
  });

  it('the HPA maxima add exactly (max − min) × per-pod requests', () => {
    const r = checkCapacity(objects, [pi5('pi-1', 'server')]);
    const extra = r.demands.reduce((acc, d) => acc + d.perPod.cpuMillis * (d.maxReplicas - d.minReplicas), 0);
    expect(r.atMaximum.cpuMillis - r.atMinimum.cpuMillis).toBe(extra);
    // 9 services × 4 extra pods × 100m (+50m frontend) + recognition 1 × 250m.
    expect(extra).toBe(8 * 4 * 100 + 4 * 50 + 250);
  });

  it('warns when only the maximum does not fit', () => {
    const r = checkCapacity(objects, [pi5('pi-1', 'server', 8), pi5('pi-2', 'agent', 4)]);
    expect(r.verdict).toBe('warn');
    expect(r.messages[1]).toMatch(/At full scale .* pods beyond it stay Pending/);
  });

  it('refuses when the minimum does not fit, naming the escape hatch', () => {
    const r = checkCapacity(objects, [{ name: 'pi-1', cpuCores: 4, memoryBytes: 4 * GiB, role: 'server', armv82: true }]);
    expect(r.verdict).toBe('refuse');
    expect(r.messages.join('\n')).toMatch(/does not fit .*--force/);
  });

  it('refuses when no node can run MongoDB (Pi 4 only)', () => {
    const pi4 = (name: string): NodeCapacity => ({ name, cpuCores: 4, memoryBytes: 8 * GiB, role: 'agent', armv82: false });
    const r = checkCapacity(objects, [{ ...pi4('pi-1'), role: 'server' }, pi4('pi-2'), pi4('pi-3')]);
    expect(r.verdict).toBe('refuse');
    expect(r.messages.join('\n')).toMatch(/Deployment revue\/revue-auth-db runs MongoDB, which needs an ARMv8.2-A CPU .* revue-pi.io\/armv82=true/);
  });

  it('refuses when the MongoDB instances do not fit on the ARMv8.2 nodes alone', () => {
    const small: NodeCapacity = { name: 'pi5-small', cpuCores: 4, memoryBytes: 2 * GiB, role: 'agent', armv82: true };
    const big = (name: string): NodeCapacity => ({ name, cpuCores: 4, memoryBytes: 16 * GiB, role: 'agent', armv82: false });
    const r = checkCapacity(objects, [{ ...big('pi4-1'), role: 'server' }, big('pi4-2'), small]);
    expect(r.verdict).toBe('refuse');
    expect(r.messages.join('\n')).toMatch(/MongoDB instances request .* ARMv8.2 nodes \(pi5-small\) can give only/);
  });
});

describe('nodeCapacityFrom', () => {
  it('maps node facts, deciding ARMv8.2 from the model (Pi 5 yes, Pi 4 no)', () => {
    expect(
      nodeCapacityFrom({ name: 'pi-1', role: 'server' }, { cpuCores: 4, memoryBytes: 8 * GiB, model: 'Raspberry Pi 5 Model B Rev 1.0', arch: 'aarch64' }),
    ).toEqual({
      name: 'pi-1',
      cpuCores: 4,
      memoryBytes: 8 * GiB,
      role: 'server',
      armv82: true,
    });
    expect(
      nodeCapacityFrom({ name: 'pi-2', role: 'agent' }, { cpuCores: 4, memoryBytes: 4 * GiB, model: 'Raspberry Pi 4 Model B Rev 1.4', arch: 'aarch64' }).armv82,
    ).toBe(false);
  });
});

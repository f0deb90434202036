import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildStatusReport, type NodeProbe, type StatusInput } from '../../../../cli/status/report.js';
import { parseClusterObjects, type ClusterObjects } from '../../../../cli/status/cluster.js';
import { parseFacts, type NodeFacts } from '../../../../provision/facts.js';
import { parseProbeOutput } from '../../../../core/remote/probe.js';
import type { K3sFacts } from '../../../../cluster/facts.js';
import { renderWorkloads } from '../../../../workloads/render.js';
import { labInventory } from '../../workloads/helpers.js';
import { RELEASE_WORKLOADS } from '../../../../workloads/monitoring/contract.js';

// A real probe of a fresh Pi 5 (16K pages, no memory cgroup), and the same Pi after `up`.
const fresh = parseFacts(parseProbeOutput(readFileSync(new URL('../../../fixtures/probe/pi5-bookworm-fresh.txt', import.meta.url), 'utf8')));
const prepared: NodeFacts = { ...fresh, pageSize: 4096, memoryCgroupActive: true };
const k3sRunning = (unit: 'k3s' | 'k3s-agent'): K3sFacts => ({ installedVersion: 'v1.33.5+k3s1', unit, units: [unit], active: true, nodePassword: true });

const inventory = labInventory();
const rendered = renderWorkloads(inventory, { secrets: 'references' });

/** A cluster where everything the inventory renders runs and is ready, with every address handed out. */
function healthyCluster(): ClusterObjects {
  const workloads = rendered
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
    .map((o) => ({
      namespace: o.metadata.namespace!,
      kind: o.kind as 'Deployment',
      name: o.metadata.name,
      desired: o.kind === 'DaemonSet' ? 3 : 1,
      ready: o.kind === 'DaemonSet' ? 3 : 1,
    }));
  return {
    nodes: ['pi-1', 'pi-2', 'pi-3'].map((name) => ({ name, ready: 'True' as const, kubeletVersion: 'v1.33.5+k3s1' })),
    workloads: [
      ...workloads,
      { namespace: 'kube-system', kind: 'Deployment', name: 'traefik', desired: 1, ready: 1 },
      { namespace: 'kube-system', kind: 'Deployment', name: 'coredns', desired: 1, ready: 0 },
      // What the Prometheus and Grafana releases run (the DaemonSet on all three nodes).
      ...Object.values(RELEASE_WORKLOADS).flatMap((r) =>
        r.workloads.map((w) => ({ namespace: 'monitoring', ...w, desired: w.kind === 'DaemonSet' ? 3 : 1, ready: w.kind === 'DaemonSet' ? 3 : 1 })),
      ),
    ],
    loadBalancers: [{ namespace: 'kube-system', name: 'traefik', requested: ['192.168.50.240'], assigned: ['192.168.50.240'] }],
    pools: [{ name: 'lan', addresses: ['192.168.50.244/30'], autoAssign: true }],
    hpas: [
      {
        namespace: 'revue',
        name: 'revue-frontend-hpa',
        target: 'Deployment/revue-frontend',
        minReplicas: 1,
        maxReplicas: 5,
        currentReplicas: 1,
        desiredReplicas: 1,
        cpuCurrent: 3,
        cpuTarget: 60,
      },
      { namespace: 'kube-system', name: 'other', target: 'Deployment/x', minReplicas: 1, maxReplicas: 2 },
    ],
    // K3s's helm-controller installed both charts; a Job of another namespace is not looked at.
    jobs: [
      { namespace: 'kube-system', name: 'helm-install-grafana', succeeded: 1, failed: 0, active: 0, complete: true, suspended: false },
      { namespace: 'kube-system', name: 'helm-install-prometheus', succeeded: 1, failed: 2, active: 0, complete: true, suspended: false },
      {
        namespace: 'revue',
        name: 'helm-install-grafana',
        succeeded: 0,
        failed: 1000,
        active: 0,
        complete: false,
        suspended: false,
        failure: { reason: 'BackoffLimitExceeded' },
      },
    ],
  };
}

/**
 * The same objects as `k3s kubectl get … -o json` prints them (the fields status reads), so a test can go through
 * parseClusterObjects: what the command really does with the cluster's answer.
 */
function kubectlList(cluster: ClusterObjects): string {
  const items = [
    ...cluster.nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name },
      status: { conditions: [{ type: 'Ready', status: n.ready }], nodeInfo: { kubeletVersion: n.kubeletVersion } },
    })),
    ...cluster.workloads.map((w) => ({
      apiVersion: 'apps/v1',
      kind: w.kind,
      metadata: { name: w.name, namespace: w.namespace },
      spec: w.kind === 'DaemonSet' ? {} : { replicas: w.desired },
      status: w.kind === 'DaemonSet' ? { desiredNumberScheduled: w.desired, numberReady: w.ready } : { readyReplicas: w.ready },
    })),
    ...cluster.loadBalancers.map((l) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: l.name, namespace: l.namespace, annotations: { 'metallb.io/loadBalancerIPs': l.requested.join(',') } },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: l.assigned.map((ip) => ({ ip })) } },
    })),
    ...cluster.pools.map((p) => ({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: p.name, namespace: 'metallb-system' },
      spec: { addresses: p.addresses, autoAssign: p.autoAssign },
    })),
    ...cluster.jobs.map((j) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: j.name, namespace: j.namespace },
      spec: { backoffLimit: 1000 },
      status: {
        ...(j.succeeded ? { succeeded: j.succeeded } : {}),
        ...(j.failed ? { failed: j.failed } : {}),
        ...(j.active ? { active: j.active } : {}),
        conditions: [
          ...(j.complete ? [{ type: 'Complete', status: 'True' }] : []),
          ...(j.suspended ? [{ type: 'Suspended', status: 'True' }] : []),
          ...(j.failure ? [{ type: 'Failed', status: 'True', ...j.failure }] : []),
        ],
      },
    })),
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** The healthy cluster without what the monitoring charts would have made: their Jobs and their releases' workloads. */
function clusterWithoutMonitoring(): ClusterObjects {
  const cluster = healthyCluster();
  return { ...cluster, workloads: cluster.workloads.filter((w) => w.namespace !== 'monitoring'), jobs: [] };
}

function input(overrides: Partial<StatusInput> = {}): StatusInput {
  const probes = new Map<string, NodeProbe>([
    ['pi-1', { facts: prepared, k3s: k3sRunning('k3s') }],
    ['pi-2', { facts: prepared, k3s: k3sRunning('k3s-agent') }],
    ['pi-3', { facts: prepared, k3s: k3sRunning('k3s-agent') }],
  ]);
  return { inventory, probes, cluster: { server: 'pi-1', objects: healthyCluster() }, rendered, ...overrides };
}

describe('buildStatusReport', () => {
  it('a healthy cluster: ok, exit 0, no problems, nodes with their facts', () => {
    const report = buildStatusReport(input());
    expect(report.problems).toEqual([]);
    expect([report.ok, report.exitCode]).toEqual([true, 0]);
    expect(report.source).toEqual({ via: 'ssh', server: 'pi-1' });
    expect(report.nodes[0]).toEqual({
      name: 'pi-1',
      role: 'server',
      address: '127.0.0.11',
      reachable: true,
      error: null,
      k3sVersion: 'v1.33.5+k3s1',
      k3sRunning: true,
      ready: 'Ready',
      model: 'Raspberry Pi 5 Model B Rev 1.0',
      os: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'aarch64',
      memoryBytes: 8245296 * 1024,
      memoryCgroup: true,
      pageSize: 4096,
      datastore: null,
    });
    expect(report.notes).toEqual([]);
    expect(report.nodes.map((n) => [n.name, n.role])).toEqual([
      ['pi-1', 'server'],
      ['pi-2', 'agent'],
      ['pi-3', 'agent'],
    ]);
  });

  it('a SQLite server: a note saying what it cannot do and what to do, without failing the report', () => {
    const probes = new Map<string, NodeProbe>([
      ['pi-1', { facts: prepared, k3s: { ...k3sRunning('k3s'), datastore: 'sqlite' } }],
      ['pi-2', { facts: prepared, k3s: k3sRunning('k3s-agent') }],
      ['pi-3', { facts: prepared, k3s: k3sRunning('k3s-agent') }],
    ]);
    const report = buildStatusReport(input({ probes }));
    expect([report.ok, report.nodes[0]!.datastore]).toEqual([true, 'sqlite']);
    expect(report.notes).toHaveLength(1);
    expect(report.notes[0]).toMatch(
      /^SQLite datastore: backups and more servers need embedded etcd, and server pi-1 keeps this cluster in SQLite .* set k3s\.datastore: etcd in the inventory .* run revue-pi up/,
    );
  });

  it('shows the status namespaces and kube-system/traefik only, sorted, each with its state', () => {
    const report = buildStatusReport(input());
    const keys = report.workloads.map((w) => `${w.namespace}/${w.name}`);
    const sorted = [...report.workloads].sort((a, b) =>
      a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1,
    );
    expect(keys).toContain('kube-system/traefik');
    expect(keys).not.toContain('kube-system/coredns');
    expect(keys).toContain('monitoring/prometheus-server');
    expect(report.charts).toEqual([
      { namespace: 'kube-system', name: 'grafana', targetNamespace: 'monitoring', job: 'helm-install-grafana', state: 'installed', failedAttempts: 0 },
      { namespace: 'kube-system', name: 'prometheus', targetNamespace: 'monitoring', job: 'helm-install-prometheus', state: 'installed', failedAttempts: 2 },
    ]);
    expect(report.workloads).toEqual(sorted);
    expect(keys.indexOf('revue/revue-alarm')).toBe(keys.indexOf('revue/revue-alarm-db') - 1);
    expect(new Set(report.workloads.map((w) => w.state))).toEqual(new Set(['ready']));
    expect(report.hpas.map((h) => h.name)).toEqual(['revue-frontend-hpa']);
  });

  it('MetalLB: the pools and addresses from the cluster; URLs and hosts line use the address Traefik got', () => {
    const noFixed = labInventory({ network: { addresses: {} } });
    const cluster = healthyCluster();
    cluster.loadBalancers = [{ namespace: 'kube-system', name: 'traefik', requested: [], assigned: ['192.168.50.247'] }];
    const report = buildStatusReport(
      input({ inventory: noFixed, rendered: renderWorkloads(noFixed, { secrets: 'references' }), cluster: { server: 'pi-1', objects: cluster } }),
    );
    expect(report.metallb).toEqual({
      enabled: true,
      pools: [{ name: 'lan', addresses: ['192.168.50.244/30'], autoAssign: true }],
      poolsFrom: 'cluster',
      services: [{ namespace: 'kube-system', name: 'traefik', requested: [], assigned: ['192.168.50.247'] }],
    });
    expect(report.access.ingressAddress).toBe('192.168.50.247');
    expect(report.access.hostsEntries[0]).toMatchObject({ address: '192.168.50.247', target: { kind: 'ingress' } });
    expect(report.access.hostsEntries[0]!.names).toEqual(expect.arrayContaining(['alarm.revue.lan', 'revue-alarm']));
    expect(report.access.urls[0]).toEqual({ name: 'Revue', url: 'http://frontend.revue.lan/' });
  });

  it('the media server hosts line uses the address MetalLB handed to revue-media-server (the web UI loads cameras by that name)', () => {
    const noFixed = labInventory({ network: { addresses: {} } });
    const cluster = healthyCluster();
    cluster.loadBalancers = [{ namespace: 'revue', name: 'revue-media-server', requested: [], assigned: ['192.168.50.248'] }];
    const report = buildStatusReport(
      input({ inventory: noFixed, rendered: renderWorkloads(noFixed, { secrets: 'references' }), cluster: { server: 'pi-1', objects: cluster } }),
    );
    expect(report.access.hostsEntries.at(-1)).toEqual({
      address: '192.168.50.248',
      lookup: 'kubectl -n revue get service revue-media-server',
      target: { kind: 'service', namespace: 'revue', name: 'revue-media-server' },
      names: ['revue-media-server'],
    });
  });

  it('an unreachable node: shown with null facts and its error, the others complete, exit 1', () => {
    const i = input();
    i.probes.set('pi-3', { error: 'Could not connect to node pi-3 (127.0.0.13:22): connect ECONNREFUSED 127.0.0.13:22.' });
    const report = buildStatusReport(i);
    expect(report.nodes[2]).toMatchObject({
      name: 'pi-3',
      reachable: false,
      error: expect.stringContaining('ECONNREFUSED'),
      k3sVersion: null,
      k3sRunning: null,
      model: null,
      memoryCgroup: null,
      pageSize: null,
      ready: 'Ready',
    });
    expect(report.nodes[0]!.reachable).toBe(true);
    expect(report.problems).toEqual([
      'Node pi-3 (127.0.0.13) could not be reached or probed: Could not connect to node pi-3 (127.0.0.13:22): connect ECONNREFUSED 127.0.0.13:22.',
    ]);
    expect([report.ok, report.exitCode]).toEqual([false, 1]);
  });

  it('names every node problem: K3s missing or stopped, no memory cgroup, 16K pages, NotReady, Unknown, not registered', () => {
    const i = input();
    i.probes.set('pi-1', { facts: fresh, k3s: k3sRunning('k3s') });
    i.probes.set('pi-2', { facts: prepared, k3s: { ...k3sRunning('k3s-agent'), active: false } });
    i.probes.set('pi-3', { facts: prepared, k3s: { unit: undefined, units: [], active: false, nodePassword: false } });
    const cluster = healthyCluster();
    cluster.nodes = [
      { name: 'pi-1', ready: 'False' },
      { name: 'pi-2', ready: 'Unknown' },
    ];
    const report = buildStatusReport({ ...i, cluster: { server: 'pi-1', objects: cluster } });
    expect(report.nodes.map((n) => n.ready)).toEqual(['NotReady', 'Unknown', 'NotRegistered']);
    expect(report.problems).toEqual([
      'Node pi-1 has no memory cgroup, which K3s needs; run revue-pi up (it adds cgroup_memory=1 cgroup_enable=memory and reboots).',
      'Node pi-1 runs with 16K memory pages although pi.kernel4k is on (MongoDB and Redis need 4K); run revue-pi up (it boots kernel8.img).',
      'Node pi-1 is NotReady in the cluster; see kubectl describe node pi-1.',
      'K3s (k3s-agent.service) is not running on node pi-2; see journalctl -u k3s-agent there, or run revue-pi up.',
      'Node pi-2 stopped reporting to the cluster (Ready=Unknown); check that it is on and that k3s-agent.service is running there.',
      'K3s is not installed on node pi-3; run revue-pi up.',
    ]);
  });

  it('16K pages are fine when pi.kernel4k is off', () => {
    const i = input({ inventory: { ...inventory, pi: { ...inventory.pi, kernel4k: false } } });
    i.probes.set('pi-1', { facts: { ...prepared, pageSize: 16384 }, k3s: k3sRunning('k3s') });
    const report = buildStatusReport(i);
    expect(report.problems).toEqual([]);
    expect(report.nodes[0]!.pageSize).toBe(16384);
  });

  it("workloads: missing (rendered, or K3s's Traefik) and not ready ones are problems", () => {
    const cluster = healthyCluster();
    cluster.workloads = cluster.workloads
      .filter((w) => !(w.name === 'traefik' || w.name === 'revue-auth'))
      .map((w) => (w.name === 'revue-user-db' ? { ...w, ready: 0 } : w));
    const report = buildStatusReport(input({ cluster: { server: 'pi-1', objects: cluster } }));
    expect(report.workloads.filter((w) => w.state !== 'ready')).toEqual([
      { namespace: 'kube-system', kind: 'Deployment', name: 'traefik', ready: 0, desired: 1, state: 'missing' },
      { namespace: 'revue', kind: 'Deployment', name: 'revue-auth', ready: 0, desired: 1, state: 'missing' },
      { namespace: 'revue', kind: 'Deployment', name: 'revue-user-db', ready: 0, desired: 1, state: 'not-ready' },
    ]);
    expect(report.problems).toEqual([
      "Deployment kube-system/traefik (K3s's bundled Traefik) is missing; check the helm-install-traefik Job in kube-system and that traefik is not in K3s's disable list.",
      'Deployment revue/revue-auth is missing from the cluster; run revue-pi up.',
      'Deployment revue/revue-user-db is not ready (0/1); see kubectl -n revue describe deployment revue-user-db.',
    ]);
  });

  it('monitoring that never installed (no install Jobs, no release workloads, read from kubectl JSON): one problem per chart naming its workloads, exit 1', () => {
    const objects = parseClusterObjects(kubectlList(clusterWithoutMonitoring()));
    const report = buildStatusReport(input({ cluster: { server: 'pi-1', objects } }));
    expect(report.charts.map((c) => [c.name, c.job, c.state])).toEqual([
      ['grafana', 'helm-install-grafana', 'missing'],
      ['prometheus', 'helm-install-prometheus', 'missing'],
    ]);
    expect(report.workloads.filter((w) => w.namespace === 'monitoring').map((w) => [w.kind, w.name, w.state])).toEqual([
      ['Deployment', 'grafana', 'missing'],
      ['Deployment', 'prometheus-kube-state-metrics', 'missing'],
      ['DaemonSet', 'prometheus-prometheus-node-exporter', 'missing'],
      ['Deployment', 'prometheus-server', 'missing'],
    ]);
    expect(report.problems).toEqual([
      'HelmChart kube-system/grafana was never installed: K3s has no install Job kube-system/helm-install-grafana for it; run revue-pi up, and check that K3s does not run with --disable-helm-controller. Its workloads are missing: Deployment monitoring/grafana.',
      'HelmChart kube-system/prometheus was never installed: K3s has no install Job kube-system/helm-install-prometheus for it; run revue-pi up, and check that K3s does not run with --disable-helm-controller. Its workloads are missing: Deployment monitoring/prometheus-kube-state-metrics, DaemonSet monitoring/prometheus-prometheus-node-exporter, Deployment monitoring/prometheus-server.',
    ]);
    expect([report.ok, report.exitCode]).toEqual([false, 1]);
  });

  it('install Jobs that failed, keep retrying or have not finished are problems, each with how to read why (exit 1)', () => {
    const cluster = clusterWithoutMonitoring();
    const job = (name: string, more: Partial<ClusterObjects['jobs'][number]>) => ({
      namespace: 'kube-system',
      name,
      succeeded: 0,
      failed: 0,
      active: 0,
      complete: false,
      suspended: false,
      ...more,
    });
    cluster.jobs = [
      job('helm-install-prometheus', { failed: 1000, failure: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } }),
      job('helm-install-grafana', { failed: 3, active: 1 }),
    ];
    let report = buildStatusReport(input({ cluster: { server: 'pi-1', objects: parseClusterObjects(kubectlList(cluster)) } }));
    expect(report.charts.map((c) => [c.name, c.state, c.failedAttempts])).toEqual([
      ['grafana', 'retrying', 3],
      ['prometheus', 'failed', 1000],
    ]);
    expect(report.problems).toEqual([
      'HelmChart kube-system/grafana is not installed: Job kube-system/helm-install-grafana has had 3 failed attempts and keeps retrying; read why with kubectl -n kube-system logs job/helm-install-grafana. Its workloads are missing: Deployment monitoring/grafana.',
      'HelmChart kube-system/prometheus failed to install: Job kube-system/helm-install-prometheus gave up after 1000 failed attempts; read why with kubectl -n kube-system logs job/helm-install-prometheus, fix it, then delete the Job so K3s tries again. Its workloads are missing: Deployment monitoring/prometheus-kube-state-metrics, DaemonSet monitoring/prometheus-prometheus-node-exporter, Deployment monitoring/prometheus-server.',
    ]);
    expect(report.exitCode).toBe(1);

    // Just created (the helm-controller creates its Jobs suspended), or running its first attempt; the release's
    // workloads already exist from an earlier install.
    const upgrading = healthyCluster();
    upgrading.jobs = [job('helm-install-prometheus', { suspended: true }), job('helm-install-grafana', { active: 1 })];
    report = buildStatusReport(input({ cluster: { server: 'pi-1', objects: upgrading } }));
    expect(report.charts.map((c) => c.state)).toEqual(['installing', 'installing']);
    expect(report.problems).toEqual([
      'HelmChart kube-system/grafana is still being installed (Job kube-system/helm-install-grafana has not finished); run status again in a minute, or follow it with kubectl -n kube-system logs job/helm-install-grafana.',
      'HelmChart kube-system/prometheus is still being installed (Job kube-system/helm-install-prometheus has not finished); run status again in a minute, or follow it with kubectl -n kube-system logs job/helm-install-prometheus.',
    ]);
    expect(report.exitCode).toBe(1);
  });

  it('an install Job made for another version than the rendered chart is not the chart installed: outdated, K3s replaces it (exit 1)', () => {
    const cluster = healthyCluster();
    const list = JSON.parse(kubectlList(cluster)) as {
      items: { kind: string; metadata: { name: string; namespace: string }; spec?: Record<string, unknown> }[];
    };
    const env = (version: string) => [
      { name: 'CHART', value: 'prometheus/prometheus' },
      { name: 'VERSION', value: version },
      { name: 'TARGET_NAMESPACE', value: 'monitoring' },
    ];
    const withVersion = (version: string) => {
      for (const i of list.items)
        if (i.kind === 'Job' && i.metadata.name === 'helm-install-prometheus' && i.metadata.namespace === 'kube-system')
          i.spec = { template: { spec: { containers: [{ name: 'helm', env: env(version) }] } } };
      return buildStatusReport(input({ cluster: { server: 'pi-1', objects: parseClusterObjects(JSON.stringify(list)) } }));
    };
    const report = withVersion('25.0.0');
    expect(report.charts.map((c) => [c.name, c.state])).toEqual([
      ['grafana', 'installed'],
      ['prometheus', 'outdated'],
    ]);
    expect(report.problems).toEqual([
      'HelmChart kube-system/prometheus is being updated: Job kube-system/helm-install-prometheus installs an earlier spec (version 25.0.0 (the chart: 29.27.0)), and K3s replaces it with one for the current spec; run status again in a minute.',
    ]);
    expect(report.exitCode).toBe(1);
    expect(withVersion('29.27.0').exitCode).toBe(0);
  });

  it('an installed chart whose release lacks a workload, or has one not ready, is a problem naming the workload', () => {
    const cluster = healthyCluster();
    cluster.workloads = cluster.workloads
      .filter((w) => w.name !== 'grafana')
      .map((w) => (w.name === 'prometheus-prometheus-node-exporter' ? { ...w, ready: 2 } : w));
    const report = buildStatusReport(input({ cluster: { server: 'pi-1', objects: cluster } }));
    expect(report.charts.map((c) => c.state)).toEqual(['installed', 'installed']);
    expect(report.problems).toEqual([
      'Deployment monitoring/grafana (release grafana of HelmChart kube-system/grafana) is missing although its install Job succeeded; delete the Job so K3s installs the chart again (kubectl -n kube-system delete job helm-install-grafana).',
      'DaemonSet monitoring/prometheus-prometheus-node-exporter is not ready (2/3); see kubectl -n monitoring describe daemonset prometheus-prometheus-node-exporter.',
    ]);
    expect(report.exitCode).toBe(1);
  });

  it('monitoring off: no charts and nothing expected in monitoring', () => {
    const noMonitoring = labInventory({ workloads: { monitoring: false } });
    const report = buildStatusReport(
      input({
        inventory: noMonitoring,
        rendered: renderWorkloads(noMonitoring, { secrets: 'references' }),
        cluster: { server: 'pi-1', objects: clusterWithoutMonitoring() },
      }),
    );
    expect(report.charts).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  it('a LoadBalancer Service without an address is a problem while MetalLB is on', () => {
    const cluster = healthyCluster();
    cluster.loadBalancers.push({ namespace: 'revue', name: 'revue-kafka-1', requested: ['192.168.50.242'], assigned: [] });
    const report = buildStatusReport(input({ cluster: { server: 'pi-1', objects: cluster } }));
    expect(report.problems).toEqual([
      'Service revue/revue-kafka-1 has no address from MetalLB yet (it asks for 192.168.50.242, which must lie in a pool); see kubectl -n revue describe service revue-kafka-1.',
    ]);
  });

  it('the cluster could not be read: readiness unknown (null), pools from the inventory, the reason is a problem', () => {
    const report = buildStatusReport(
      input({ cluster: { error: 'The cluster could not be read over SSH from any server (pi-1: not reachable); node readiness and workloads are unknown.' } }),
    );
    expect(report.source).toEqual({ via: 'none', error: expect.stringContaining('pi-1: not reachable') });
    expect(report.nodes.map((n) => n.ready)).toEqual([null, null, null]);
    expect(report.workloads).toEqual([]);
    expect(report.charts).toEqual([]);
    expect(report.hpas).toEqual([]);
    expect(report.metallb.poolsFrom).toBe('inventory');
    expect(report.metallb.pools.map((p) => p.name)).toEqual(['lan', 'spare']);
    expect(report.access.ingressAddress).toBe('192.168.50.240');
    expect(report.problems).toEqual([
      'The cluster could not be read over SSH from any server (pi-1: not reachable); node readiness and workloads are unknown.',
    ]);
    expect(report.exitCode).toBe(1);
  });
});

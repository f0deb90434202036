import { describe, expect, it } from 'vitest';
import { buildClusterStatusCommand, isMissingTypeError, parseClusterObjects } from '../../../../cli/status/cluster.js';

describe('buildClusterStatusCommand', () => {
  it('reads everything status shows in one kubectl call, pools only when MetalLB is on', () => {
    expect(buildClusterStatusCommand({ pools: true }).text).toBe(
      'k3s kubectl get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,services,horizontalpodautoscalers.autoscaling,jobs.batch,ipaddresspools.metallb.io -A -o json',
    );
    expect(buildClusterStatusCommand({ pools: false }).text).toBe(
      'k3s kubectl get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,services,horizontalpodautoscalers.autoscaling,jobs.batch -A -o json',
    );
  });
});

describe('isMissingTypeError', () => {
  it.each([
    ['error: the server doesn\'t have a resource type "ipaddresspools"', true],
    ['error: resource mapping not found for name: "x" namespace: "" from "-": no matches for kind "IPAddressPool" in version "metallb.io/v1beta1"', true],
    ['The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?', false],
    ['error: You must be logged in to the server (Unauthorized)', false],
  ])('%s → %s', (output, expected) => {
    expect(isMissingTypeError(output)).toBe(expected);
  });
});

// Items in the shape the Kubernetes API returns them (trimmed to the fields status reads, plus some it ignores).
const LIST = {
  apiVersion: 'v1',
  kind: 'List',
  metadata: { resourceVersion: '' },
  items: [
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'pi-2', labels: { 'kubernetes.io/arch': 'arm64' } },
      status: {
        addresses: [
          { type: 'InternalIP', address: '192.168.1.12' },
          { type: 'Hostname', address: 'pi-2' },
        ],
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' },
        ],
        nodeInfo: { kubeletVersion: 'v1.33.5+k3s1', architecture: 'arm64' },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'pi-1' },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.168.1.11' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        nodeInfo: { kubeletVersion: 'v1.33.5+k3s1' },
      },
    },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-3' }, status: {} },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'revue-auth', namespace: 'revue', generation: 2 },
      spec: { replicas: 2 },
      status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 },
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fresh', namespace: 'revue' }, spec: {}, status: {} },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'prometheus', namespace: 'monitoring' },
      spec: { replicas: 1 },
      status: { readyReplicas: 1 },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'speaker', namespace: 'metallb-system' },
      spec: {},
      status: { desiredNumberScheduled: 3, numberReady: 2 },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'kube-system', annotations: { 'metallb.io/loadBalancerIPs': '192.168.1.240' } },
      spec: { type: 'LoadBalancer', clusterIP: '10.43.0.10' },
      status: { loadBalancer: { ingress: [{ ip: '192.168.1.240', ipMode: 'VIP' }] } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kafka', namespace: 'revue' },
      spec: { type: 'LoadBalancer', loadBalancerIP: '192.168.1.242' },
      status: { loadBalancer: {} },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'revue-pi-fixed', namespace: 'metallb-system' },
      spec: { addresses: ['192.168.1.240/32'], autoAssign: false },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'lan', namespace: 'metallb-system' },
      spec: { addresses: ['192.168.1.241-192.168.1.250'] },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'revue-frontend-hpa', namespace: 'revue' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'revue-frontend' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
      },
      status: {
        currentReplicas: 2,
        desiredReplicas: 3,
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 83, averageValue: '166m' } } }],
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'new-hpa', namespace: 'revue' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'revue-log' },
        maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
      status: { currentReplicas: 1, desiredReplicas: 1, currentMetrics: null },
    },
    // K3s's helm-controller install Jobs (k3s-io/helm-controller v0.17.7 chart.go job(): label, suspended at first,
    // backoffLimit 1000), in the states the Job controller gives them.
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'helm-install-grafana', namespace: 'kube-system', generation: 2, labels: { 'helmcharts.helm.cattle.io/chart': 'grafana' } },
      spec: { backoffLimit: 1000, suspend: false },
      status: {
        succeeded: 1,
        failed: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached' },
          { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
        ],
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'helm-install-prometheus', namespace: 'kube-system', labels: { 'helmcharts.helm.cattle.io/chart': 'prometheus' } },
      spec: { backoffLimit: 3, suspend: false },
      status: {
        failed: 4,
        conditions: [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        ],
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'helm-install-fresh', namespace: 'kube-system', generation: 1 },
      spec: { backoffLimit: 1000, suspend: true },
      status: { conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }] },
    },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'helm-install-traefik', namespace: 'kube-system' }, spec: {}, status: { active: 1, failed: 2 } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored', namespace: 'revue' } },
  ],
};

describe('parseClusterObjects', () => {
  const parsed = parseClusterObjects(JSON.stringify(LIST));

  it('nodes: Ready condition, kubelet version and internal address, sorted by name', () => {
    expect(parsed.nodes).toEqual([
      { name: 'pi-1', ready: 'True', kubeletVersion: 'v1.33.5+k3s1', internalIP: '192.168.1.11' },
      { name: 'pi-2', ready: 'Unknown', kubeletVersion: 'v1.33.5+k3s1', internalIP: '192.168.1.12' },
      { name: 'pi-3' },
    ]);
  });

  it('workloads: ready/desired per kind (Deployment replicas default 1, DaemonSet from its status)', () => {
    expect(parsed.workloads).toEqual([
      { namespace: 'metallb-system', kind: 'DaemonSet', name: 'speaker', desired: 3, ready: 2 },
      { namespace: 'monitoring', kind: 'StatefulSet', name: 'prometheus', desired: 1, ready: 1 },
      { namespace: 'revue', kind: 'Deployment', name: 'fresh', desired: 1, ready: 0 },
      { namespace: 'revue', kind: 'Deployment', name: 'revue-auth', desired: 2, ready: 1 },
    ]);
  });

  it('LoadBalancer Services only: requested (annotation or loadBalancerIP) and assigned addresses', () => {
    expect(parsed.loadBalancers).toEqual([
      { namespace: 'kube-system', name: 'traefik', requested: ['192.168.1.240'], assigned: ['192.168.1.240'] },
      { namespace: 'revue', name: 'kafka', requested: ['192.168.1.242'], assigned: [] },
    ]);
  });

  it('pools with autoAssign (default true)', () => {
    expect(parsed.pools).toEqual([
      { name: 'lan', addresses: ['192.168.1.241-192.168.1.250'], autoAssign: true },
      { name: 'revue-pi-fixed', addresses: ['192.168.1.240/32'], autoAssign: false },
    ]);
  });

  it('HPAs: replicas and CPU now/target; no CPU metric or reading → undefined', () => {
    expect(parsed.hpas).toEqual([
      { namespace: 'revue', name: 'new-hpa', target: 'Deployment/revue-log', minReplicas: 1, maxReplicas: 3, currentReplicas: 1, desiredReplicas: 1 },
      {
        namespace: 'revue',
        name: 'revue-frontend-hpa',
        target: 'Deployment/revue-frontend',
        minReplicas: 1,
        maxReplicas: 5,
        currentReplicas: 2,
        desiredReplicas: 3,
        cpuCurrent: 83,
        cpuTarget: 60,
      },
    ]);
  });

  it('Jobs: pod counts and the Complete, Failed (with its reason) and Suspended conditions', () => {
    expect(parsed.jobs).toEqual([
      { namespace: 'kube-system', name: 'helm-install-fresh', succeeded: 0, failed: 0, active: 0, complete: false, suspended: true },
      { namespace: 'kube-system', name: 'helm-install-grafana', succeeded: 1, failed: 1, active: 0, complete: true, suspended: false },
      {
        namespace: 'kube-system',
        name: 'helm-install-prometheus',
        succeeded: 0,
        failed: 4,
        active: 0,
        complete: false,
        suspended: false,
        failure: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      },
      { namespace: 'kube-system', name: 'helm-install-traefik', succeeded: 0, failed: 2, active: 1, complete: false, suspended: false },
    ]);
  });

  it('an empty List is an empty cluster', () => {
    expect(parseClusterObjects('{"apiVersion":"v1","kind":"List","items":[]}')).toEqual({
      nodes: [],
      workloads: [],
      loadBalancers: [],
      pools: [],
      hpas: [],
      jobs: [],
    });
  });

  it.each([
    ['', /not JSON: \(nothing\)/],
    ['The connection to the server 127.0.0.1:6443 was refused', /not JSON: The connection to the server/],
    ['{"kind":"Status"}', /without an items list/],
  ])('refuses output that is not a List: %j', (text, message) => {
    expect(() => parseClusterObjects(text)).toThrow(message);
  });

  it('refuses an item whose field does not fit, naming the command, the object and the field (it is not read as a default)', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'revue-auth', namespace: 'revue' }, spec: { replicas: '3' }, status: {} };
    expect(() => parseClusterObjects(JSON.stringify({ kind: 'List', items: [deployment] }))).toThrow(
      '`k3s kubectl get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,services,horizontalpodautoscalers.autoscaling,jobs.batch,ipaddresspools.metallb.io -A -o json` ' +
        'printed items[0] (Deployment revue/revue-auth) with spec.replicas is text where a number belongs',
    );
  });
});

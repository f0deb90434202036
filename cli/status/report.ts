import type { Inventory } from '../../core/inventory/schema.js';
import type { NodeFacts } from '../../provision/facts.js';
import type { K3sFacts } from '../../cluster/facts.js';
import { sqliteNotice } from '../../cluster/first-server.js';
import { type AccessInfo, MEDIA_SERVER_SERVICE, renderAccessInfo } from '../../workloads/access.js';
import { METALLB_NAMESPACE, MONITORING_NAMESPACE, type K8sObject } from '../../workloads/render.js';
import {
  chartProblem,
  chartsReadiness,
  isWorkloadReady,
  releaseWorkloadMissingProblem,
  type ReleaseWorkloadState,
  type StatusChart,
} from '../../workloads/charts.js';
import type { ClusterHpa, ClusterObjects, ClusterWorkload, WorkloadKind } from './cluster.js';

export type { StatusChart } from '../../workloads/charts.js';

/**
 * The `status` report: what the probes and the one cluster read found, put together with what the inventory asks
 * for. Pure. This object is exactly what `status --json` prints (shape documented in the README, "revue-pi status").
 */
export interface StatusReport {
  cluster: string;
  /** Nothing to report: every node reachable and Ready, every workload ready, every LoadBalancer served. */
  ok: boolean;
  /** 0 when ok, else 1. */
  exitCode: 0 | 1;
  /** Where the cluster was read: the server whose `k3s kubectl` answered, or why none did. */
  source: { via: 'ssh'; server: string } | { via: 'kubeconfig'; context: string } | { via: 'none'; error: string };
  nodes: StatusNode[];
  metallb: {
    enabled: boolean;
    /** The IPAddressPools in the cluster (from the inventory when the cluster could not be read: `poolsFrom`). */
    pools: { name: string; addresses: string[]; autoAssign: boolean }[];
    poolsFrom: 'cluster' | 'inventory';
    /** Every LoadBalancer Service: what it asks for and what it was handed. */
    services: { namespace: string; name: string; requested: string[]; assigned: string[] }[];
  };
  workloads: StatusWorkload[];
  /** The HelmCharts revue-pi applies (Prometheus, Grafana) and how far K3s got installing each; [] when unread. */
  charts: StatusChart[];
  hpas: ClusterHpa[];
  access: AccessInfo;
  /** One sentence per thing that is wrong, naming the node or object and what to do. Empty when ok. */
  problems: string[];
  /** Things that work but limit what revue-pi can do (a SQLite datastore): they do not make the report fail. */
  notes: string[];
}

/** The Ready condition as `kubectl get nodes` shows it, `NotRegistered` when the node is not in the cluster, null when the cluster could not be read. */
export type NodeReadiness = 'Ready' | 'NotReady' | 'Unknown' | 'NotRegistered' | null;

export interface StatusNode {
  name: string;
  role: 'server' | 'agent';
  address: string;
  reachable: boolean;
  /** Why the node could not be reached or probed; null when it was. */
  error: string | null;
  /** `k3s --version` on the node; null when not installed or not reachable. */
  k3sVersion: string | null;
  /** The node's K3s unit (k3s / k3s-agent) is active; null when not reachable. */
  k3sRunning: boolean | null;
  ready: NodeReadiness;
  model: string | null;
  os: string | null;
  arch: string | null;
  memoryBytes: number | null;
  memoryCgroup: boolean | null;
  pageSize: number | null;
  /** A server's datastore: etcd, or SQLite (a single server made without cluster-init); null for agents and when unknown. */
  datastore: 'etcd' | 'sqlite' | null;
}

/** One workload as status shows it: the same shape up's readiness rule reads (`missing`: rendered for this inventory, or K3s's bundled Traefik, but not in the cluster). */
export type StatusWorkload = ReleaseWorkloadState;

export interface NodeProbe {
  /** Present when the node answered the probe. */
  facts?: NodeFacts;
  k3s?: K3sFacts;
  /** Why it could not be reached or probed. */
  error?: string;
}

/** `server` is the node read over SSH; with `context`, the cluster was read from this computer through the kubeconfig. */
export type ClusterRead = { server: string; context?: string; objects: ClusterObjects } | { error: string };

export interface StatusInput {
  inventory: Inventory;
  /** By node name. */
  probes: Map<string, NodeProbe>;
  cluster: ClusterRead;
  /** The rendered workloads for this inventory (secrets as references): what should be running. */
  rendered: K8sObject[];
}

const WORKLOAD_KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** K3s's bundled Traefik: not rendered by revue-pi, but every route goes through it. */
const TRAEFIK = { namespace: 'kube-system', kind: 'Deployment' as const, name: 'traefik' };

/** The namespaces whose workloads and HPAs status shows in full. */
export function statusNamespaces(inventory: Inventory): string[] {
  return [inventory.workloads.namespace, MONITORING_NAMESPACE, METALLB_NAMESPACE];
}

/** Workloads status covers: the app and monitoring namespaces, MetalLB's, and K3s's Traefik in kube-system. */
export function isStatusWorkload(inventory: Inventory, w: { namespace: string; kind: string; name: string }): boolean {
  if (statusNamespaces(inventory).includes(w.namespace)) return true;
  return w.namespace === TRAEFIK.namespace && w.kind === TRAEFIK.kind && w.name === TRAEFIK.name;
}

export function buildStatusReport(input: StatusInput): StatusReport {
  const { inventory, probes, cluster, rendered } = input;
  const problems: string[] = [];
  const notes: string[] = [];
  const objects = 'objects' in cluster ? cluster.objects : undefined;

  // ---- nodes
  const clusterNodes = new Map((objects?.nodes ?? []).map((n) => [n.name, n]));
  const nodes: StatusNode[] = inventory.nodes.map((node) => {
    const probe = probes.get(node.name) ?? { error: 'not probed' };
    const facts = probe.facts;
    const k3s = probe.k3s;
    const live = clusterNodes.get(node.name);
    const ready: NodeReadiness = !objects
      ? null
      : !live
        ? 'NotRegistered'
        : live.ready === 'True'
          ? 'Ready'
          : live.ready === 'Unknown'
            ? 'Unknown'
            : 'NotReady';
    const unit = node.role === 'server' ? 'k3s' : 'k3s-agent';
    if (!facts) {
      // The connection errors carry their own advice (inventory fields, power, SSH); none is added here.
      problems.push(`Node ${node.name} (${node.host}) could not be reached or probed: ${probe.error ?? 'no answer.'}`);
    } else {
      if (!k3s?.installedVersion) problems.push(`K3s is not installed on node ${node.name}; run revue-pi up.`);
      else if (!k3s.active)
        problems.push(
          `K3s (${k3s.unit ?? unit}.service) is not running on node ${node.name}; see journalctl -u ${k3s.unit ?? unit} there, or run revue-pi up.`,
        );
      if (!facts.memoryCgroupActive)
        problems.push(`Node ${node.name} has no memory cgroup, which K3s needs; run revue-pi up (it adds cgroup_memory=1 cgroup_enable=memory and reboots).`);
      if (inventory.pi.kernel4k && facts.pageSize !== 0 && facts.pageSize !== 4096) {
        problems.push(
          `Node ${node.name} runs with ${facts.pageSize / 1024}K memory pages although pi.kernel4k is on (MongoDB and Redis need 4K); run revue-pi up (it boots kernel8.img).`,
        );
      }
    }
    if (node.role === 'server' && k3s?.datastore === 'sqlite') notes.push(sqliteNotice(node.name));
    if (ready === 'NotRegistered' && k3s?.installedVersion) problems.push(`Node ${node.name} is not in the cluster; run revue-pi up to join it.`);
    if (ready === 'NotReady') problems.push(`Node ${node.name} is NotReady in the cluster; see kubectl describe node ${node.name}.`);
    if (ready === 'Unknown')
      problems.push(`Node ${node.name} stopped reporting to the cluster (Ready=Unknown); check that it is on and that ${unit}.service is running there.`);
    return {
      name: node.name,
      role: node.role,
      address: node.host,
      reachable: facts !== undefined,
      error: facts ? null : (probe.error ?? 'no answer'),
      k3sVersion: k3s?.installedVersion ?? null,
      k3sRunning: facts ? Boolean(k3s?.active) : null,
      ready,
      model: facts ? facts.model || null : null,
      os: facts ? facts.os.prettyName || null : null,
      arch: facts ? facts.arch || null : null,
      memoryBytes: facts ? facts.memoryBytes : null,
      memoryCgroup: facts ? facts.memoryCgroupActive : null,
      pageSize: facts ? facts.pageSize || null : null,
      datastore: node.role === 'server' ? (k3s?.datastore ?? null) : null,
    };
  });
  if ('error' in cluster) problems.push(cluster.error);

  // ---- workloads: what is in the cluster, plus what should be and is not
  const workloads: StatusWorkload[] = [];
  const charts: StatusChart[] = [];
  if (objects) {
    const key = (w: { namespace: string; kind: string; name: string }) => `${w.namespace}/${w.kind}/${w.name}`;
    const live = new Map<string, ClusterWorkload>(objects.workloads.filter((w) => isStatusWorkload(inventory, w)).map((w) => [key(w), w]));
    // The HelmCharts revue-pi applies: their install Jobs, and the workloads their releases run — decided as `up`
    // decides (workloads/charts.ts).
    const readiness = chartsReadiness(rendered, { jobs: objects.jobs, workloads: objects.workloads });
    charts.push(...readiness.map((r) => r.chart));
    const chartOf = new Map(readiness.flatMap((r) => r.workloads.map((w) => [key(w), r] as const)));
    const chartWorkloads = readiness.flatMap((r) =>
      r.workloads.filter((w) => w.state === 'missing').map((w) => ({ namespace: w.namespace, kind: w.kind, name: w.name, desired: w.desired })),
    );
    const expected = [
      ...rendered
        .filter((o) => (WORKLOAD_KINDS as string[]).includes(o.kind))
        .map((o) => ({ namespace: o.metadata.namespace ?? 'default', kind: o.kind as WorkloadKind, name: o.metadata.name, desired: desiredOf(o) })),
      ...chartWorkloads,
      { ...TRAEFIK, desired: 1 },
    ];
    for (const e of expected) {
      if (!live.has(key(e))) workloads.push({ namespace: e.namespace, kind: e.kind, name: e.name, ready: 0, desired: e.desired, state: 'missing' });
    }
    for (const w of live.values()) workloads.push({ ...w, state: isWorkloadReady(w) ? 'ready' : 'not-ready' });
    workloads.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name) || compare(a.kind, b.kind));
    const ref = (w: { kind: string; namespace: string; name: string }) => `${w.kind} ${w.namespace}/${w.name}`;
    // A chart that is not installed (for its current spec) is one problem, naming the workloads its release would run.
    for (const r of readiness.filter((x) => x.chart.state !== 'installed')) {
      const missing = workloads.filter((w) => w.state === 'missing' && chartOf.get(key(w)) === r).map(ref);
      problems.push(`${chartProblem(r)}${missing.length ? ` Its workloads are missing: ${missing.join(', ')}.` : ''}`);
    }
    for (const w of workloads) {
      const chart = chartOf.get(key(w));
      if (w.state === 'missing') {
        if (chart && chart.chart.state !== 'installed') continue;
        problems.push(
          w.namespace === TRAEFIK.namespace && w.name === TRAEFIK.name
            ? `${ref(w)} (K3s's bundled Traefik) is missing; check the helm-install-traefik Job in kube-system and that traefik is not in K3s's disable list.`
            : chart
              ? releaseWorkloadMissingProblem(w, chart.chart)
              : `${ref(w)} is missing from the cluster; run revue-pi up.`,
        );
      } else if (w.state === 'not-ready') {
        problems.push(`${ref(w)} is not ready (${w.ready}/${w.desired}); see kubectl -n ${w.namespace} describe ${w.kind.toLowerCase()} ${w.name}.`);
      }
    }
  }

  // ---- MetalLB
  const services = (objects?.loadBalancers ?? []).map((s) => ({ namespace: s.namespace, name: s.name, requested: s.requested, assigned: s.assigned }));
  if (inventory.network.metallb.enabled) {
    for (const s of services.filter((x) => x.assigned.length === 0)) {
      problems.push(
        `Service ${s.namespace}/${s.name} has no address from MetalLB yet${s.requested.length ? ` (it asks for ${s.requested.join(', ')}, which must lie in a pool)` : ''}; see kubectl -n ${s.namespace} describe service ${s.name}.`,
      );
    }
  }
  const pools = objects
    ? objects.pools.map((p) => ({ name: p.name, addresses: p.addresses, autoAssign: p.autoAssign }))
    : inventory.network.metallb.pools.map((p) => ({ name: p.name, addresses: p.addresses, autoAssign: true }));

  // ---- access: the addresses Traefik and the media server really got, else the inventory's fixed ones
  const traefik = services.find((s) => s.namespace === TRAEFIK.namespace && s.name === TRAEFIK.name);
  const media = services.find((s) => s.namespace === inventory.workloads.namespace && s.name === MEDIA_SERVER_SERVICE);
  const access = renderAccessInfo(inventory, rendered, traefik?.assigned[0], media?.assigned[0]);

  const ok = problems.length === 0;
  return {
    cluster: inventory.cluster.name,
    ok,
    exitCode: ok ? 0 : 1,
    source:
      'objects' in cluster
        ? cluster.context
          ? { via: 'kubeconfig', context: cluster.context }
          : { via: 'ssh', server: cluster.server }
        : { via: 'none', error: cluster.error },
    nodes,
    metallb: { enabled: inventory.network.metallb.enabled, pools, poolsFrom: objects ? 'cluster' : 'inventory', services },
    workloads,
    charts,
    hpas: (objects?.hpas ?? []).filter((h) => statusNamespaces(inventory).includes(h.namespace)),
    access,
    problems,
    notes,
  };
}

/** Plain code-point order: the same in every locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function desiredOf(o: K8sObject): number {
  if (o.kind === 'DaemonSet') return 0;
  const replicas = (o.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof replicas === 'number' ? replicas : 1;
}

import {
  buildKubectlGetCommand,
  ofKind,
  parseKubeList,
  type KubeHpa,
  type KubeItem,
  type KubeNode,
  type KubeQuery,
  type KubeService,
} from '../../core/kube/index.js';
import type { ShellScript } from '../../core/remote/shell.js';
import { parseLiveJob, parseLiveWorkload, type LiveJob, type LiveWorkload } from '../../workloads/charts.js';

/**
 * What `status` reads from the cluster: one `k3s kubectl get … -A -o json` over SSH on a server, parsed into typed
 * facts. Pure: the command string and the parser are tested on their exact input/output.
 */

/**
 * Types read in the single kubectl call (nodes are cluster-scoped; kubectl mixes them fine with -A). Jobs are for the
 * helm-controller's install Jobs of the HelmCharts revue-pi applies.
 */
const BASE_TYPES = ['nodes', 'deployments.apps', 'statefulsets.apps', 'daemonsets.apps', 'services', 'horizontalpodautoscalers.autoscaling', 'jobs.batch'];
/** A CRD type: asking for it when MetalLB is not installed makes kubectl fail ("the server doesn't have a resource type"). */
export const POOL_TYPE = 'ipaddresspools.metallb.io';

/** The one read of the cluster (run with sudo on a server: it uses /etc/rancher/k3s/k3s.yaml). */
export function clusterStatusQuery(opts: { pools: boolean; requestTimeoutSeconds?: number }): KubeQuery {
  return {
    resources: opts.pools ? [...BASE_TYPES, POOL_TYPE] : BASE_TYPES,
    allNamespaces: true,
    ...(opts.requestTimeoutSeconds !== undefined ? { requestTimeoutSeconds: opts.requestTimeoutSeconds } : {}),
  };
}

/** The read as the command a server runs. */
export function buildClusterStatusCommand(opts: { pools: boolean }): ShellScript {
  return buildKubectlGetCommand(clusterStatusQuery(opts));
}

/** kubectl said a type does not exist (MetalLB's CRDs not installed yet): read again without the pools. */
export function isMissingTypeError(output: string): boolean {
  return /doesn't have a resource type|no matches for kind|the server could not find the requested resource/i.test(output);
}

export interface ClusterNode {
  name: string;
  /** The Ready condition: True, False or Unknown (the node stopped posting status); undefined when it has none yet. */
  ready?: 'True' | 'False' | 'Unknown';
  kubeletVersion?: string;
  internalIP?: string;
}

/** Workloads and Jobs are read as `up` reads them (workloads/charts.ts), so both decide alike. */
export type { WorkloadKind } from '../../workloads/charts.js';
export type ClusterWorkload = LiveWorkload;
export type ClusterJob = LiveJob;

export interface ClusterLoadBalancer {
  namespace: string;
  name: string;
  /** Addresses the Service asks for (metallb.io/loadBalancerIPs annotation or spec.loadBalancerIP). */
  requested: string[];
  /** What was handed out (status.loadBalancer.ingress). */
  assigned: string[];
}

export interface ClusterPool {
  name: string;
  addresses: string[];
  autoAssign: boolean;
}

export interface ClusterHpa {
  namespace: string;
  name: string;
  /** `Deployment/revue-frontend` */
  target: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  /** Average CPU utilisation now (percent of requests); undefined until metrics-server has a reading. */
  cpuCurrent?: number;
  cpuTarget?: number;
}

export interface ClusterObjects {
  nodes: ClusterNode[];
  workloads: ClusterWorkload[];
  loadBalancers: ClusterLoadBalancer[];
  pools: ClusterPool[];
  hpas: ClusterHpa[];
  jobs: ClusterJob[];
}

const byKey = <T extends { namespace?: string; name: string }>(a: T, b: T) => `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);

/** Parses the List printed by buildClusterStatusCommand. Throws a sentence naming the command and field on anything else. */
export function parseClusterObjects(json: string, command = buildClusterStatusCommand({ pools: true }).text): ClusterObjects {
  return clusterObjectsOf(parseKubeList(json, { command }));
}

/** The facts status reports, from the items of the one read. */
export function clusterObjectsOf(items: readonly KubeItem[]): ClusterObjects {
  const out: ClusterObjects = {
    nodes: ofKind(items, 'Node').map(nodeOf),
    workloads: items.flatMap((i) => parseLiveWorkload(i) ?? []),
    loadBalancers: ofKind(items, 'Service').flatMap((s) => loadBalancerOf(s) ?? []),
    pools: ofKind(items, 'IPAddressPool').map((p) => ({
      name: p.metadata?.name ?? '',
      addresses: p.spec?.addresses ?? [],
      autoAssign: p.spec?.autoAssign !== false,
    })),
    hpas: ofKind(items, 'HorizontalPodAutoscaler').map(hpaOf),
    jobs: items.flatMap((i) => parseLiveJob(i) ?? []),
  };
  out.nodes.sort((a, b) => a.name.localeCompare(b.name));
  out.workloads.sort((a, b) => byKey(a, b) || a.kind.localeCompare(b.kind));
  out.loadBalancers.sort(byKey);
  out.pools.sort((a, b) => a.name.localeCompare(b.name));
  out.hpas.sort(byKey);
  out.jobs.sort(byKey);
  return out;
}

function nodeOf(node: KubeNode): ClusterNode {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
  const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  return {
    name: node.metadata?.name ?? '',
    ...(ready === 'True' || ready === 'False' || ready === 'Unknown' ? { ready } : {}),
    ...(kubeletVersion ? { kubeletVersion } : {}),
    ...(internalIP ? { internalIP } : {}),
  };
}

/** A Service of type LoadBalancer: what it asks MetalLB for and what it was given; undefined for other types. */
function loadBalancerOf(service: KubeService): ClusterLoadBalancer | undefined {
  if (service.spec?.type !== 'LoadBalancer') return undefined;
  const annotated = service.metadata?.annotations?.['metallb.io/loadBalancerIPs'];
  const fixed = service.spec.loadBalancerIP;
  const requested = annotated
    ? annotated
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fixed
      ? [fixed]
      : [];
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  return {
    namespace: service.metadata?.namespace ?? '',
    name: service.metadata?.name ?? '',
    requested,
    assigned: ingress.map((i) => i.ip ?? i.hostname ?? '').filter(Boolean),
  };
}

function hpaOf(hpa: KubeHpa): ClusterHpa {
  const spec = hpa.spec ?? {};
  const status = hpa.status ?? {};
  const cpu = <M extends { type?: string; resource?: { name?: string } }>(metrics: M[] | undefined) =>
    metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const cpuTarget = cpu(spec.metrics)?.resource?.target?.averageUtilization ?? spec.targetCPUUtilizationPercentage;
  const cpuCurrent = cpu(status.currentMetrics)?.resource?.current?.averageUtilization ?? status.currentCPUUtilizationPercentage;
  return {
    namespace: hpa.metadata?.namespace ?? '',
    name: hpa.metadata?.name ?? '',
    target: `${spec.scaleTargetRef?.kind ?? '?'}/${spec.scaleTargetRef?.name ?? '?'}`,
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas ?? 0,
    ...(status.currentReplicas !== undefined ? { currentReplicas: status.currentReplicas } : {}),
    ...(status.desiredReplicas !== undefined ? { desiredReplicas: status.desiredReplicas } : {}),
    ...(cpuCurrent !== undefined ? { cpuCurrent } : {}),
    ...(cpuTarget !== undefined ? { cpuTarget } : {}),
  };
}

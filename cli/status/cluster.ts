import { sh, type ShellScript } from '../../core/remote/shell.js';
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
export function buildClusterStatusCommand(opts: { pools: boolean }): ShellScript {
  const types = opts.pools ? [...BASE_TYPES, POOL_TYPE] : BASE_TYPES;
  return sh`k3s kubectl get ${types.join(',')} -A -o json`;
}

/** The same read from this computer, with the local kubectl and the merged kubeconfig's context for the cluster. */
export function buildLocalKubectlArgs(opts: { pools: boolean; kubeconfig: string; context: string; timeoutSeconds: number }): string[] {
  const types = opts.pools ? [...BASE_TYPES, POOL_TYPE] : BASE_TYPES;
  return ['--kubeconfig', opts.kubeconfig, '--context', opts.context, `--request-timeout=${opts.timeoutSeconds}s`, 'get', types.join(','), '-A', '-o', 'json'];
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

interface Item {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const byKey = <T extends { namespace?: string; name: string }>(a: T, b: T) => `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);

/** Parses the List printed by buildClusterStatusCommand. Throws on output that is not a kubectl List. */
export function parseClusterObjects(json: string): ClusterObjects {
  let list: { kind?: string; items?: unknown };
  try {
    list = JSON.parse(json) as typeof list;
  } catch {
    throw new Error(`kubectl printed something that is not JSON: ${json.trim().slice(0, 120) || '(nothing)'}`);
  }
  if (!list || !Array.isArray(list.items)) throw new Error('kubectl printed JSON without an items list.');
  const out: ClusterObjects = { nodes: [], workloads: [], loadBalancers: [], pools: [], hpas: [], jobs: [] };
  for (const item of list.items as Item[]) {
    const name = item.metadata?.name ?? '';
    const namespace = item.metadata?.namespace ?? '';
    const spec = item.spec ?? {};
    const status = item.status ?? {};
    switch (item.kind) {
      case 'Node': {
        const conditions = (status.conditions ?? []) as { type?: string; status?: string }[];
        const ready = conditions.find((c) => c.type === 'Ready')?.status;
        const addresses = (status.addresses ?? []) as { type?: string; address?: string }[];
        const nodeInfo = (status.nodeInfo ?? {}) as { kubeletVersion?: string };
        out.nodes.push({
          name,
          ...(ready === 'True' || ready === 'False' || ready === 'Unknown' ? { ready } : {}),
          ...(str(nodeInfo.kubeletVersion) ? { kubeletVersion: nodeInfo.kubeletVersion } : {}),
          ...(str(addresses.find((a) => a.type === 'InternalIP')?.address) ? { internalIP: addresses.find((a) => a.type === 'InternalIP')!.address } : {}),
        });
        break;
      }
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
        out.workloads.push(parseLiveWorkload(item)!);
        break;
      case 'Service': {
        if (spec.type !== 'LoadBalancer') break;
        const annotated = item.metadata?.annotations?.['metallb.io/loadBalancerIPs'];
        const requested = annotated
          ? annotated
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : str(spec.loadBalancerIP)
            ? [spec.loadBalancerIP as string]
            : [];
        const ingress = ((status.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []) as {
          ip?: string;
          hostname?: string;
        }[];
        out.loadBalancers.push({ namespace, name, requested, assigned: ingress.map((i) => i.ip ?? i.hostname ?? '').filter(Boolean) });
        break;
      }
      case 'IPAddressPool':
        out.pools.push({
          name,
          addresses: ((spec.addresses ?? []) as unknown[]).filter((a): a is string => typeof a === 'string'),
          autoAssign: spec.autoAssign !== false,
        });
        break;
      case 'HorizontalPodAutoscaler': {
        const ref = (spec.scaleTargetRef ?? {}) as { kind?: string; name?: string };
        const specMetrics = (spec.metrics ?? []) as { type?: string; resource?: { name?: string; target?: { averageUtilization?: number } } }[];
        const current = (status.currentMetrics ?? []) as { type?: string; resource?: { name?: string; current?: { averageUtilization?: number } } }[];
        const cpuTarget =
          num(specMetrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target?.averageUtilization) ??
          num(spec.targetCPUUtilizationPercentage);
        const cpuCurrent =
          num(current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current?.averageUtilization) ??
          num(status.currentCPUUtilizationPercentage);
        out.hpas.push({
          namespace,
          name,
          target: `${ref.kind ?? '?'}/${ref.name ?? '?'}`,
          minReplicas: num(spec.minReplicas) ?? 1,
          maxReplicas: num(spec.maxReplicas) ?? 0,
          ...(num(status.currentReplicas) !== undefined ? { currentReplicas: num(status.currentReplicas) } : {}),
          ...(num(status.desiredReplicas) !== undefined ? { desiredReplicas: num(status.desiredReplicas) } : {}),
          ...(cpuCurrent !== undefined ? { cpuCurrent } : {}),
          ...(cpuTarget !== undefined ? { cpuTarget } : {}),
        });
        break;
      }
      case 'Job':
        out.jobs.push(parseLiveJob(item)!);
        break;
      default:
        break;
    }
  }
  out.nodes.sort((a, b) => a.name.localeCompare(b.name));
  out.workloads.sort((a, b) => byKey(a, b) || a.kind.localeCompare(b.kind));
  out.loadBalancers.sort(byKey);
  out.pools.sort((a, b) => a.name.localeCompare(b.name));
  out.hpas.sort(byKey);
  out.jobs.sort(byKey);
  return out;
}

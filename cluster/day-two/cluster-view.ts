import { sh } from '../../core/remote/shell.js';
/**
 * What remove-node reads of the cluster, in one `k3s kubectl get` on a server that stays: the nodes (role, address,
 * Ready, etcd member, cordoned), the pods (their controller, whether a drain may evict them) and the PersistentVolumes
 * tied to one node's disk. Pure: the command and its parser.
 */

/** One read of what the plan needs (run with sudo on a server: k3s kubectl uses /etc/rancher/k3s/k3s.yaml). */
export const CLUSTER_READ_COMMAND = sh`k3s kubectl get nodes,pods,poddisruptionbudgets.policy,persistentvolumes -A -o json --request-timeout=20s`;

export interface NodeView {
  name: string;
  role: 'server' | 'agent';
  /** InternalIP, else the k3s.io/internal-ip annotation. */
  address?: string;
  ready?: 'True' | 'False' | 'Unknown';
  /** etcd.k3s.cattle.io/node-name: its etcd member. */
  etcdMember?: string;
  /** The EtcdIsVoter condition (K3s's member controller): True once its member is a voter. */
  etcdVoter?: string;
  /** The Ready condition's lastHeartbeatTime (ISO): when the kubelet last posted it. */
  readyHeartbeat?: string;
  unschedulable: boolean;
}

export interface PodView {
  namespace: string;
  name: string;
  node?: string;
  /** Kind of its controller owner (ReplicaSet, StatefulSet, DaemonSet, Job…); undefined: none. */
  controller?: string;
  mirror: boolean;
  /** Succeeded or Failed. */
  done: boolean;
  emptyDir: boolean;
}

export interface ClusterView {
  nodes: NodeView[];
  pods: PodView[];
  /** PersistentVolumes tied to one node's disk (nodeAffinity on kubernetes.io/hostname, as local-path makes them). */
  localVolumes: { name: string; node: string; claim?: string }[];
}

type Item = {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export function parseClusterView(json: string): ClusterView {
  let list: { items?: unknown };
  try {
    list = JSON.parse(json) as { items?: unknown };
  } catch {
    throw new Error(`kubectl printed something that is not JSON: ${json.trim().slice(0, 160) || '(nothing)'}`);
  }
  if (!Array.isArray(list.items)) throw new Error('kubectl printed JSON without an items list');
  const view: ClusterView = { nodes: [], pods: [], localVolumes: [] };
  for (const item of list.items as Item[]) {
    const meta = item.metadata ?? {};
    const labels = meta.labels ?? {};
    const spec = item.spec ?? {};
    const status = item.status ?? {};
    if (item.kind === 'Node') {
      const conditions = (status.conditions ?? []) as { type?: string; status?: string; lastHeartbeatTime?: string }[];
      const readyCondition = conditions.find((c) => c.type === 'Ready');
      const ready = readyCondition?.status;
      const voter = conditions.find((c) => c.type === 'EtcdIsVoter')?.status;
      const internal = ((status.addresses ?? []) as { type?: string; address?: string }[]).find((a) => a.type === 'InternalIP')?.address;
      const server = ['control-plane', 'master', 'etcd'].some((r) => labels[`node-role.kubernetes.io/${r}`] === 'true');
      view.nodes.push({
        name: meta.name ?? '',
        role: server ? 'server' : 'agent',
        ...(internal || meta.annotations?.['k3s.io/internal-ip'] ? { address: internal || meta.annotations!['k3s.io/internal-ip'] } : {}),
        ...(ready === 'True' || ready === 'False' || ready === 'Unknown' ? { ready } : {}),
        ...(meta.annotations?.['etcd.k3s.cattle.io/node-name'] ? { etcdMember: meta.annotations['etcd.k3s.cattle.io/node-name'] } : {}),
        ...(voter ? { etcdVoter: voter } : {}),
        ...(readyCondition?.lastHeartbeatTime ? { readyHeartbeat: readyCondition.lastHeartbeatTime } : {}),
        unschedulable: spec.unschedulable === true,
      });
    } else if (item.kind === 'Pod') {
      const controller = (meta.ownerReferences ?? []).find((r) => r.controller)?.kind;
      view.pods.push({
        namespace: meta.namespace ?? '',
        name: meta.name ?? '',
        ...(typeof spec.nodeName === 'string' ? { node: spec.nodeName } : {}),
        ...(controller ? { controller } : {}),
        mirror: Boolean(meta.annotations?.['kubernetes.io/config.mirror']),
        done: status.phase === 'Succeeded' || status.phase === 'Failed',
        emptyDir: ((spec.volumes ?? []) as { emptyDir?: unknown }[]).some((v) => v.emptyDir !== undefined),
      });
    } else if (item.kind === 'PersistentVolume') {
      const node = hostnameAffinity(spec);
      const claim = spec.claimRef as { namespace?: string; name?: string } | undefined;
      if (node) view.localVolumes.push({ name: meta.name ?? '', node, ...(claim?.name ? { claim: `${claim.namespace}/${claim.name}` } : {}) });
    }
  }
  return view;
}

function hostnameAffinity(spec: Record<string, unknown>): string | undefined {
  const terms =
    (spec.nodeAffinity as { required?: { nodeSelectorTerms?: { matchExpressions?: { key?: string; operator?: string; values?: string[] }[] }[] } })?.required
      ?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const e of t.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1) return e.values[0];
  return undefined;
}
